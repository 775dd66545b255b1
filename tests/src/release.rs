//! A release server's side of updates, for the tests: a signing key, packages signed as the
//! Tauri CLI signs them (minisign, the version bound in the trusted comment), and the release
//! manifest (`latest.json`) the Tauri action publishes.

use base64::Engine;

/// A signing key pair; the public key as the app is given it.
pub struct ReleaseKey {
    pair: minisign::KeyPair,
}

fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s)
}

impl ReleaseKey {
    /// A new key pair (no password).
    pub fn new() -> ReleaseKey {
        ReleaseKey {
            pair: minisign::KeyPair::generate_unencrypted_keypair().expect("a key pair"),
        }
    }

    /// The public key as `plugins.updater.pubkey` holds it: the minisign public key file,
    /// base64.
    pub fn public(&self) -> String {
        b64(&self.pair.pk.to_box().expect("a public key box").to_string())
    }

    /// `bytes` signed as version `version` (`--app-version`): the `.sig` file, base64, as the
    /// Tauri CLI 2.12.5 writes it (checked by hand: `tauri signer sign --app-version`).
    pub fn sign(&self, bytes: &[u8], version: &str) -> String {
        self.sign_commented(
            bytes,
            &format!("timestamp:1700000000\tfile:Parley.deb\tversion:{version}"),
        )
    }

    /// `bytes` signed without a version, as older Tauri CLIs did.
    pub fn sign_unversioned(&self, bytes: &[u8]) -> String {
        self.sign_commented(bytes, "timestamp:1700000000\tfile:Parley.deb")
    }

    fn sign_commented(&self, bytes: &[u8], trusted: &str) -> String {
        let sig = minisign::sign(
            Some(&self.pair.pk),
            &self.pair.sk,
            std::io::Cursor::new(bytes),
            Some(trusted),
            Some("signature from tauri secret key"),
        )
        .expect("signed");
        b64(&sig.to_string())
    }
}

impl Default for ReleaseKey {
    fn default() -> Self {
        ReleaseKey::new()
    }
}

/// The platform key of this computer in a manifest (`linux-x86_64`, `darwin-aarch64`, …).
pub fn platform() -> String {
    let os = match std::env::consts::OS {
        "macos" => "darwin",
        os => os,
    };
    format!("{os}-{}", std::env::consts::ARCH)
}

/// A `latest.json` announcing `version`, its package at `url` with `signature`.
pub fn manifest(version: &str, notes: &str, url: &str, signature: &str) -> String {
    serde_json::json!({
        "version": version,
        "notes": notes,
        "pub_date": "2026-12-01T10:00:00Z",
        "platforms": { platform(): { "url": url, "signature": signature } }
    })
    .to_string()
}
