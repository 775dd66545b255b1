//! Local models: the GGUF files the built-in engine runs (added from disk, found where Ollama
//! or LM Studio keep them, or downloaded), their settings, and the engine's state.

use serde::{Deserialize, Serialize};

/// The name of the built-in engine as a provider.
pub const BUILTIN_PROVIDER: &str = "On this computer (built in)";

/// Where a local model's file came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum ModelSource {
    /// A GGUF file the user added from disk (used in place).
    File,
    /// A model Ollama keeps (used in place).
    Ollama,
    /// A model LM Studio keeps (used in place).
    LmStudio,
    /// Downloaded by Parley into its models folder.
    Download,
}

/// How the built-in engine runs one model (`None`: the engine's choice).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct ModelSettings {
    /// Context size in tokens (default: the smaller of the model's own and 4096).
    #[serde(default)]
    pub context: Option<u32>,
    /// CPU threads.
    #[serde(default)]
    pub threads: Option<u32>,
    /// Layers offloaded to a GPU (a build with GPU support only; 0 = none).
    #[serde(default)]
    pub gpu_layers: Option<u32>,
}

/// A model the built-in engine can run, as its GGUF header describes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct LocalModel {
    /// Its name in the model picker and the CLI (unique).
    pub name: String,
    /// The GGUF file.
    pub path: String,
    pub source: ModelSource,
    /// The architecture (`llama`, `qwen2`, …).
    pub architecture: String,
    /// Parameters, counted from the tensors.
    #[cfg_attr(feature = "specta", specta(type = u32))]
    pub parameters: u64,
    /// The weights' quantisation (`Q4_K_M`, …), when the file says.
    pub quantisation: Option<String>,
    /// The context length it was trained for.
    pub context_length: Option<u32>,
    /// The file's size in bytes.
    #[cfg_attr(feature = "specta", specta(type = u32))]
    pub size: u64,
    /// Whether the file holds a chat template.
    pub chat_template: bool,
    pub settings: ModelSettings,
    /// When it was added (ms).
    #[cfg_attr(feature = "specta", specta(type = f64))]
    pub added_at: i64,
    /// Why it cannot be used now (its file is gone or changed), when it cannot.
    #[serde(default)]
    pub problem: Option<String>,
}

/// A model found on this computer (kept by Ollama or LM Studio) that is not added yet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct FoundModel {
    /// The name its keeper shows.
    pub name: String,
    pub path: String,
    pub source: ModelSource,
    pub architecture: String,
    #[cfg_attr(feature = "specta", specta(type = u32))]
    pub parameters: u64,
    pub quantisation: Option<String>,
    #[cfg_attr(feature = "specta", specta(type = u32))]
    pub size: u64,
}

/// The installed models and the ones found elsewhere on this computer. (Byte counts and
/// parameters are typed `u32` for the window only: JSON carries the whole number.)
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct LocalModels {
    pub installed: Vec<LocalModel>,
    pub found: Vec<FoundModel>,
    /// This computer's memory, total and free now (bytes; `None` where unknown).
    #[cfg_attr(feature = "specta", specta(type = Option<u32>))]
    pub memory_total: Option<u64>,
    #[cfg_attr(feature = "specta", specta(type = Option<u32>))]
    pub memory_free: Option<u64>,
}

/// What the built-in engine is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum EngineState {
    /// Not running (never started, unloaded after the idle time, or stopped).
    Stopped,
    /// Started, loading its model.
    Loading,
    /// Serving its model.
    Ready,
    /// The last start failed, or the engine crashed (see `message`).
    Failed,
}

/// The built-in engine's state, for Settings and `parley models status`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct EngineStatus {
    pub state: EngineState,
    /// The model loaded or loading.
    pub model: Option<String>,
    /// The engine's program, when Parley found it.
    pub binary: Option<String>,
    /// What went wrong, or what is happening, in a sentence.
    pub message: Option<String>,
    /// When the state began (ms).
    #[cfg_attr(feature = "specta", specta(type = f64))]
    pub since: i64,
    /// Seconds without a request after which the model is unloaded (0: never).
    pub idle_seconds: u32,
}

/// Where a download is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
#[serde(rename_all = "snake_case")]
pub enum DownloadState {
    Running,
    /// Stopped by the user or by Parley quitting: what arrived is kept, and it resumes.
    Paused,
    /// Whole; its SHA-256 being checked against the hub's.
    Verifying,
    /// Stopped by a fault (see `message`); what arrived is kept unless it was wrong.
    Failed,
    /// Verified and added as a model.
    Done,
}

/// A model download's progress.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct DownloadInfo {
    /// `owner/repo:file.gguf`.
    pub id: String,
    /// The file's size, and the bytes received (typed `u32` for the window only).
    #[cfg_attr(feature = "specta", specta(type = u32))]
    pub total: u64,
    #[cfg_attr(feature = "specta", specta(type = u32))]
    pub done: u64,
    /// Bytes per second, lately.
    #[cfg_attr(feature = "specta", specta(type = u32))]
    pub speed: u64,
    /// Seconds left at that speed.
    pub eta_seconds: Option<u32>,
    pub state: DownloadState,
    /// What went wrong, or the model's name once done.
    pub message: Option<String>,
}

/// A model of the download catalogue, and whether it fits this computer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct CatalogueModel {
    pub name: String,
    /// `owner/repo:file.gguf`.
    pub reference: String,
    /// The file's size, and the memory it wants with a 4K context (bytes; typed `u32` for the
    /// window only).
    #[cfg_attr(feature = "specta", specta(type = u32))]
    pub size: u64,
    #[cfg_attr(feature = "specta", specta(type = u32))]
    pub memory: u64,
    pub good_for: String,
    /// It fits in half of this computer's memory.
    pub fits: bool,
    /// The largest that fits: the one offered first.
    pub recommended: bool,
}
