//! Models already on this computer, found where Ollama and LM Studio keep them, to be used in
//! place (never copied):
//!
//! - Ollama (`$OLLAMA_MODELS`, else `~/.ollama/models`): each manifest under
//!   `manifests/<registry>/<namespace>/<model>/<tag>` names its layers; the one of media type
//!   `application/vnd.ollama.image.model` is the GGUF file, at `blobs/sha256-<digest>`. The name
//!   shown is Ollama's own (`llama3.2:3b`; another namespace or registry is kept in it).
//! - LM Studio (`~/.lmstudio/models`, and the older `~/.cache/lm-studio/models`): GGUF files two
//!   folders down (`<publisher>/<repository>/<file>.gguf`); vision projectors (`mmproj-*`) are
//!   not models.
//!
//! Every file is checked by its GGUF header before it is offered. The folders are untrusted: a
//! digest must be 64 hex digits (a manifest cannot name a path), manifests are read up to
//! MANIFEST_MAX bytes, at most FOUND_MAX models are looked at, and what cannot be used is skipped.

use super::gguf::{self, GgufInfo};
use std::path::{Path, PathBuf};

/// The most bytes of one manifest read.
const MANIFEST_MAX: u64 = 1024 * 1024;
/// The most candidate models looked at in one folder.
const FOUND_MAX: usize = 2000;
/// Ollama's media type of a model's weights.
const OLLAMA_MODEL: &str = "application/vnd.ollama.image.model";

/// Which program keeps a found model.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Keeper {
    Ollama,
    LmStudio,
}

/// A model found on this computer.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    pub keeper: Keeper,
    /// The name its keeper shows.
    pub name: String,
    /// The GGUF file, used in place.
    pub path: PathBuf,
    /// What its header says.
    pub info: GgufInfo,
}

/// Where to look: Ollama's models folder and LM Studio's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Places {
    pub ollama: PathBuf,
    pub lm_studio: Vec<PathBuf>,
}

impl Places {
    /// The usual places under `home`; `ollama_models` is `$OLLAMA_MODELS` when set.
    pub fn usual(home: &Path, ollama_models: Option<PathBuf>) -> Places {
        Places {
            ollama: ollama_models.unwrap_or_else(|| home.join(".ollama").join("models")),
            lm_studio: vec![
                home.join(".lmstudio").join("models"),
                home.join(".cache").join("lm-studio").join("models"),
            ],
        }
    }
}

/// Every model found in `places`, Ollama's first, each list by name.
pub fn find(places: &Places) -> Vec<Found> {
    let mut out = ollama(&places.ollama);
    for root in &places.lm_studio {
        for f in lm_studio(root) {
            if !out.iter().any(|o| o.path == f.path) {
                out.push(f);
            }
        }
    }
    out
}

/// The files under `dir` (not following into hidden folders), at most `max`.
fn files(dir: &Path, depth: usize, max: usize, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        if out.len() >= max {
            return;
        }
        let path = entry.path();
        let hidden = entry.file_name().to_string_lossy().starts_with('.');
        match entry.file_type() {
            Ok(t) if t.is_dir() && depth > 0 && !hidden => files(&path, depth - 1, max, out),
            Ok(t) if !t.is_dir() => out.push(path),
            _ => {}
        }
    }
}

/// Ollama's models under `root`.
pub fn ollama(root: &Path) -> Vec<Found> {
    let manifests = root.join("manifests");
    let mut paths = Vec::new();
    files(&manifests, 4, FOUND_MAX, &mut paths);
    let mut out: Vec<Found> = paths
        .iter()
        .filter_map(|m| {
            let name = ollama_name(&manifests, m)?;
            let path = ollama_blob(root, m)?;
            let info = gguf::read(&path).ok()?;
            Some(Found {
                keeper: Keeper::Ollama,
                name,
                path,
                info,
            })
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// A manifest's model name: `registry/namespace/model/tag`, shown as Ollama shows it.
fn ollama_name(manifests: &Path, manifest: &Path) -> Option<String> {
    let parts: Vec<String> = manifest
        .strip_prefix(manifests)
        .ok()?
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    let [registry, namespace, model, tag] = parts.as_slice() else {
        return None;
    };
    let base = match (registry.as_str(), namespace.as_str()) {
        ("registry.ollama.ai", "library") => model.clone(),
        ("registry.ollama.ai", ns) => format!("{ns}/{model}"),
        (reg, ns) => format!("{reg}/{ns}/{model}"),
    };
    Some(crate::clean::cap(
        &crate::clean::visible_line(&format!("{base}:{tag}")),
        200,
    ))
}

/// The GGUF blob a manifest names, when it names one by a sound digest and it is there.
fn ollama_blob(root: &Path, manifest: &Path) -> Option<PathBuf> {
    use std::io::Read;
    let mut text = String::new();
    super::gguf::open_regular(manifest)
        .ok()?
        .take(MANIFEST_MAX)
        .read_to_string(&mut text)
        .ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    let digest = v["layers"]
        .as_array()?
        .iter()
        .find(|l| l["mediaType"] == OLLAMA_MODEL)?["digest"]
        .as_str()?;
    let hex = digest.strip_prefix("sha256:")?;
    if !crate::attachments::is_sha256(hex) {
        return None;
    }
    let blob = root.join("blobs").join(format!("sha256-{hex}"));
    blob.is_file().then_some(blob)
}

/// LM Studio's models under `root`: `<publisher>/<repository>/<file>.gguf`.
pub fn lm_studio(root: &Path) -> Vec<Found> {
    let mut paths = Vec::new();
    files(root, 2, FOUND_MAX, &mut paths);
    let mut out: Vec<Found> = paths
        .into_iter()
        .filter(|p| {
            let file = p
                .file_name()
                .map(|f| f.to_string_lossy().to_ascii_lowercase());
            file.is_some_and(|f| f.ends_with(".gguf") && !f.starts_with("mmproj"))
                && p.parent().and_then(Path::parent).and_then(Path::parent) == Some(root)
        })
        .filter_map(|path| {
            let info = gguf::read(&path).ok()?;
            let name = path.strip_prefix(root).ok()?.to_string_lossy().into_owned();
            Some(Found {
                keeper: Keeper::LmStudio,
                name: crate::clean::cap(&crate::clean::visible_line(&name), 300),
                path,
                info,
            })
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

#[cfg(test)]
#[path = "discover_tests.rs"]
mod tests;
