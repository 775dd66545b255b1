use super::*;

/// A tiny sound GGUF of architecture `arch`.
fn gguf_bytes(arch: &str) -> Vec<u8> {
    let mut b = Vec::new();
    b.extend(0x4655_4747u32.to_le_bytes());
    b.extend(3u32.to_le_bytes());
    b.extend(0u64.to_le_bytes());
    b.extend(1u64.to_le_bytes());
    let key = "general.architecture";
    b.extend((key.len() as u64).to_le_bytes());
    b.extend(key.as_bytes());
    b.extend(8u32.to_le_bytes());
    b.extend((arch.len() as u64).to_le_bytes());
    b.extend(arch.as_bytes());
    b
}

fn put(path: &Path, bytes: &[u8]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}

/// An Ollama manifest whose model layer has `digest` (other layers around it).
fn manifest(digest: &str) -> Vec<u8> {
    serde_json::json!({
        "schemaVersion": 2,
        "layers": [
            {"mediaType": "application/vnd.ollama.image.template", "digest": format!("sha256:{}", "1".repeat(64))},
            {"mediaType": OLLAMA_MODEL, "digest": digest, "size": 1},
            {"mediaType": "application/vnd.ollama.image.license", "digest": "sha256:x"}
        ]
    })
    .to_string()
    .into_bytes()
}

#[test]
fn ollamas_models_are_found_by_their_manifests_and_only_sound_ones_offered() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let m = root.join("manifests");
    let good = "a".repeat(64);
    let other = "b".repeat(64);
    let text = "c".repeat(64);
    put(
        &root.join("blobs").join(format!("sha256-{good}")),
        &gguf_bytes("llama"),
    );
    put(
        &root.join("blobs").join(format!("sha256-{other}")),
        &gguf_bytes("qwen2"),
    );
    put(
        &root.join("blobs").join(format!("sha256-{text}")),
        b"not a model",
    );
    let lib = m.join("registry.ollama.ai").join("library");
    put(
        &lib.join("llama3.2").join("3b"),
        &manifest(&format!("sha256:{good}")),
    );
    put(
        &m.join("registry.ollama.ai/someone/tiny/latest"),
        &manifest(&format!("sha256:{other}")),
    );
    put(
        &m.join("hf.co/org/model/q4"),
        &manifest(&format!("sha256:{good}")),
    );
    // Unusable: a path for a digest, a blob that is no model, a missing blob, garbage JSON, a
    // manifest at the wrong depth.
    put(
        &lib.join("evil").join("x"),
        &manifest("sha256:../../../../etc/passwd"),
    );
    put(
        &lib.join("text").join("x"),
        &manifest(&format!("sha256:{text}")),
    );
    put(
        &lib.join("gone").join("x"),
        &manifest(&format!("sha256:{}", "d".repeat(64))),
    );
    put(&lib.join("junk").join("x"), b"{ not json");
    put(
        &m.join("registry.ollama.ai/shallow"),
        &manifest(&format!("sha256:{good}")),
    );
    let found = ollama(root);
    let names: Vec<&str> = found.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(
        names,
        ["hf.co/org/model:q4", "llama3.2:3b", "someone/tiny:latest"]
    );
    assert!(found.iter().all(|f| f.keeper == Keeper::Ollama));
    assert_eq!(found[2].info.architecture, "qwen2");
    assert_eq!(
        found[1].path,
        root.join("blobs").join(format!("sha256-{good}"))
    );
    assert!(ollama(&root.join("nothing here")).is_empty());
}

#[test]
fn lm_studios_models_are_the_gguf_files_two_folders_down() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    put(
        &root.join("bartowski/Qwen-GGUF/Qwen-Q4_K_M.gguf"),
        &gguf_bytes("qwen2"),
    );
    put(
        &root.join("bartowski/Qwen-GGUF/mmproj-Qwen-f16.gguf"),
        &gguf_bytes("clip"),
    );
    put(&root.join("me/broken/model.gguf"), b"GGUF");
    put(&root.join("me/notes/readme.md"), b"# hi");
    put(&root.join("loose.gguf"), &gguf_bytes("llama"));
    put(&root.join("a/b/c/deep.gguf"), &gguf_bytes("llama"));
    put(&root.join(".hidden/x/y.gguf"), &gguf_bytes("llama"));
    let found = lm_studio(root);
    let names: Vec<&str> = found.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["bartowski/Qwen-GGUF/Qwen-Q4_K_M.gguf"]);
    assert_eq!(found[0].keeper, Keeper::LmStudio);
}

#[test]
fn the_usual_places_follow_the_home_and_ollamas_variable() {
    let home = Path::new("/home/u");
    let p = Places::usual(home, None);
    assert_eq!(p.ollama, home.join(".ollama/models"));
    assert_eq!(p.lm_studio[0], home.join(".lmstudio/models"));
    let p = Places::usual(home, Some("/data/ollama".into()));
    assert_eq!(p.ollama, Path::new("/data/ollama"));
    // Both keepers, one list; a file both name is listed once.
    let dir = tempfile::tempdir().unwrap();
    let lm = dir.path().join("lm");
    put(&lm.join("p/r/m.gguf"), &gguf_bytes("llama"));
    let places = Places {
        ollama: dir.path().join("ollama"),
        lm_studio: vec![lm.clone(), lm],
    };
    assert_eq!(find(&places).len(), 1);
}
