//! Settings → About and "Copy diagnostics": what is running and where, for a bug report.
//! The diagnostics name kinds and counts only: never a key, an address (which may carry
//! credentials), a name the user typed, or message text.

use crate::Core;
use parley_protocol::About;
use std::collections::BTreeMap;
use std::fmt::Write as _;

impl Core {
    /// The version, the platform and the folders.
    pub async fn about(&self) -> About {
        let details = matches!(self.settings().saved().await, Ok(Some(s)) if s.log_details);
        About {
            version: env!("CARGO_PKG_VERSION").to_owned(),
            platform: platform(),
            data_dir: std::path::Path::new(&self.data_status().database)
                .parent()
                .map(|d| d.display().to_string())
                .unwrap_or_default(),
            log_dir: crate::logs::running_dir().map(|d| d.display().to_string()),
            log_details: details,
        }
    }

    /// A short text to paste into a bug report (see the module's note on what it leaves out).
    pub async fn diagnostics(&self, shell: &str) -> String {
        let mut out = format!("Parley {} ({shell})\n", env!("CARGO_PKG_VERSION"));
        let _ = writeln!(out, "Platform: {}", platform());
        let kinds: BTreeMap<String, usize> = match self.providers().list_providers().await {
            Ok(list) => list.iter().fold(BTreeMap::new(), |mut m, p| {
                *m.entry(format!("{:?}", p.kind)).or_default() += 1;
                m
            }),
            Err(e) => BTreeMap::from([(format!("(unreadable: {:?})", e.to_info().code), 0)]),
        };
        let kinds: Vec<String> = kinds.iter().map(|(k, n)| format!("{k} × {n}")).collect();
        let _ = writeln!(
            out,
            "Providers: {}",
            if kinds.is_empty() {
                "none".into()
            } else {
                kinds.join(", ")
            }
        );
        let servers = self.mcp().list().await.map(|l| l.len()).unwrap_or(0);
        let _ = writeln!(out, "MCP servers: {servers}");
        let models = self
            .models()
            .list()
            .await
            .map(|l| l.installed.len())
            .unwrap_or(0);
        let _ = writeln!(
            out,
            "Local models: {models}; built-in engine: {:?}",
            self.models().status().state
        );
        let details = matches!(self.settings().saved().await, Ok(Some(s)) if s.log_details);
        let _ = writeln!(
            out,
            "Log: {} (details {})",
            if crate::logs::running_dir().is_some() {
                "written"
            } else {
                "not written"
            },
            if details { "on" } else { "off" }
        );
        out
    }
}

fn platform() -> String {
    format!("{} {}", std::env::consts::OS, std::env::consts::ARCH)
}
