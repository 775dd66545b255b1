//! A bare Tauri window: one static page that reports its first paint, nothing else.

/// Writes the first-paint time (unix ms) to `PARLEY_READY_FILE`.
#[tauri::command]
fn ready() {
    if let Some(path) = std::env::var_os("PARLEY_READY_FILE") {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_millis())
            .unwrap_or(0);
        let _ = std::fs::write(path, now.to_string());
    }
}

fn main() {
    let result = tauri::Builder::default()
        .invoke_handler(tauri::generate_handler![ready])
        .run(tauri::generate_context!());
    if let Err(e) = result {
        eprintln!("bare window failed: {e}");
        std::process::exit(1);
    }
}
