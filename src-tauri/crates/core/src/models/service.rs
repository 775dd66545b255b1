//! [`ModelService`]: the models the built-in engine runs (added from disk, found where Ollama
//! and LM Studio keep them, downloaded), their settings, and the engine itself — offered to the
//! providers as the provider "On this computer (built in)" (`providers::LocalEngine`).

use super::engine::{Engine, Lease};
use super::spawn::Launch;
use super::{discover, gguf, memory, sysmem};
use crate::error::{CoreError, ProviderError, ProviderErrorKind};
use crate::shared::Shared;
use crate::util::now_ms;
use parley_protocol::{
    EngineStatus, FoundModel, LocalModel, LocalModels, ModelInfo, ModelSettings, ModelSource,
};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// The context a model gets when its settings do not say (at most its own).
const DEFAULT_CONTEXT: u64 = 4096;
/// The idle time before the model is unloaded, when the user has not chosen one.
const DEFAULT_IDLE_SECS: u32 = 600;
/// The settings key of the idle time.
const IDLE: &str = "idle_seconds";

/// Local models and the built-in engine.
#[derive(Clone)]
pub struct ModelService {
    pub(super) shared: Arc<Shared>,
    engine: Arc<Engine>,
    places: Arc<discover::Places>,
    /// The downloads of this run, by reference.
    pub(super) downloads:
        Arc<std::sync::Mutex<std::collections::HashMap<String, super::pull::Running>>>,
}

impl ModelService {
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        let home = dirs::home_dir().unwrap_or_default();
        let places =
            discover::Places::usual(&home, std::env::var_os("OLLAMA_MODELS").map(PathBuf::from));
        let engine = Engine::new(
            shared.process_log.clone(),
            shared.loopback.clone(),
            DEFAULT_IDLE_SECS,
        );
        ModelService {
            shared,
            engine: Arc::new(engine),
            places: Arc::new(places),
            downloads: Arc::default(),
        }
    }

    /// Reads the saved idle time into the engine (at start).
    pub(crate) async fn load_settings(&self) -> Result<(), CoreError> {
        if let Some(v) = self.shared.store.engine_setting(IDLE).await? {
            if let Ok(secs) = v.parse() {
                self.engine.set_idle(secs);
            }
        }
        Ok(())
    }

    /// The installed models (each checked: is its file still there, unchanged?), the ones
    /// found elsewhere on this computer, and the memory.
    pub async fn list(&self) -> Result<LocalModels, CoreError> {
        let mut installed = self.shared.store.local_models().await?;
        let places = self.places.clone();
        let (found, installed) = tokio::task::spawn_blocking(move || {
            for m in &mut installed {
                m.problem = problem(m);
            }
            let found: Vec<FoundModel> = discover::find(&places)
                .into_iter()
                .filter(|f| !installed.iter().any(|m| Path::new(&m.path) == f.path))
                .map(found_model)
                .collect();
            (found, installed)
        })
        .await
        .map_err(|e| CoreError::Internal(e.to_string()))?;
        let mem = sysmem::read();
        Ok(LocalModels {
            installed,
            found,
            memory_total: mem.map(|m| m.total),
            memory_free: mem.map(|m| m.available),
        })
    }

    /// Adds the GGUF file at `path` (used in place), named `name` or after its file (or as
    /// Ollama or LM Studio names it, when it is one of theirs).
    pub async fn add(&self, path: &str, name: Option<String>) -> Result<LocalModel, CoreError> {
        self.add_from(path, name, None).await
    }

    /// Adds a file Parley downloaded (deleted when the model is removed).
    pub(super) async fn add_as(
        &self,
        path: &str,
        name: Option<String>,
        source: ModelSource,
    ) -> Result<LocalModel, CoreError> {
        self.add_from(path, name, Some(source)).await
    }

    async fn add_from(
        &self,
        path: &str,
        name: Option<String>,
        source: Option<ModelSource>,
    ) -> Result<LocalModel, CoreError> {
        let path = PathBuf::from(path.trim());
        let places = self.places.clone();
        let (path, info, keeper) = tokio::task::spawn_blocking(move || read_model(&path, &places))
            .await
            .map_err(|e| CoreError::Internal(e.to_string()))??;
        let taken = self.shared.store.local_models().await?;
        if let Some(same) = taken.iter().find(|m| Path::new(&m.path) == path) {
            return Err(CoreError::InvalidInput(format!(
                "This file is already installed as \"{}\".",
                same.name
            )));
        }
        let wanted = match name.map(|n| n.trim().to_owned()) {
            Some(n) => checked_name(&n)?,
            None => keeper
                .as_ref()
                .map_or_else(|| stem(&path), |(_, n)| n.clone()),
        };
        if name_taken(&taken, &wanted) {
            return Err(CoreError::InvalidInput(format!(
                "A model named \"{wanted}\" is already installed. Pick another name (--name)."
            )));
        }
        let source = source.unwrap_or_else(|| keeper.map_or(ModelSource::File, |(k, _)| k));
        let model = describe(wanted, &path, source, &info);
        self.shared.store.put_local_model(model.clone()).await?;
        Ok(model)
    }

    /// Removes a model from Parley. A file Parley downloaded is deleted; a file of the user's,
    /// Ollama's or LM Studio's is left where it is.
    pub async fn remove(&self, name: &str) -> Result<LocalModel, CoreError> {
        let model = self.installed(name).await?;
        if self.engine.status().model.as_deref() == Some(model.name.as_str()) {
            self.engine.stop("its model was removed").await;
        }
        self.shared.store.delete_local_model(&model.name).await?;
        if model.source == ModelSource::Download {
            // Both canonical: the stored path is, and the data folder may be reached through a
            // symlink.
            let dir = self.models_dir();
            let dir = dir.canonicalize().unwrap_or(dir);
            let file = PathBuf::from(&model.path);
            if file
                .canonicalize()
                .unwrap_or(file.clone())
                .starts_with(&dir)
            {
                let _ = std::fs::remove_file(&file);
            }
        }
        Ok(model)
    }

    /// Changes how the engine runs a model (used from its next start).
    pub async fn set_settings(
        &self,
        name: &str,
        settings: ModelSettings,
    ) -> Result<LocalModel, CoreError> {
        let mut model = self.installed(name).await?;
        check_settings(&model, &settings)?;
        model.settings = settings;
        self.shared.store.put_local_model(model.clone()).await?;
        Ok(model)
    }

    /// The engine's state, with the program it runs.
    pub fn status(&self) -> EngineStatus {
        let mut s = self.engine.status();
        match engine_binary() {
            Ok(p) => s.binary = Some(p.display().to_string()),
            Err(why) if s.message.is_none() => s.message = Some(why),
            Err(_) => {}
        }
        s
    }

    /// The engine's log (its own lines and Parley's notes), oldest first.
    pub fn log(&self) -> Vec<String> {
        self.engine.log.lines()
    }

    /// How long the engine keeps a model loaded without requests (0: until Parley quits).
    pub async fn set_idle(&self, secs: u32) -> Result<EngineStatus, CoreError> {
        self.shared
            .store
            .put_engine_setting(IDLE, &secs.to_string())
            .await?;
        self.engine.set_idle(secs);
        Ok(self.status())
    }

    /// Stops the engine (Parley quits; the user asked).
    pub async fn stop_engine(&self) {
        self.engine.stop("asked to stop").await;
    }

    /// Where Parley keeps the models it downloads.
    pub fn models_dir(&self) -> PathBuf {
        self.shared.data_dir.join("models")
    }

    /// The installed models, oldest first (no file is looked at).
    pub(crate) async fn installed_models(&self) -> Result<Vec<LocalModel>, CoreError> {
        Ok(self.shared.store.local_models().await?)
    }

    /// The installed model named `name`: exactly, else without regard to case (in every
    /// script, as names are compared when one is added).
    async fn installed(&self, name: &str) -> Result<LocalModel, CoreError> {
        let all = self.shared.store.local_models().await?;
        let found = (all.iter().find(|m| m.name == name)).or_else(|| {
            all.iter()
                .find(|m| m.name.to_lowercase() == name.to_lowercase())
        });
        found.cloned().ok_or_else(|| {
            CoreError::NotFound(format!(
                "No local model named \"{name}\". See the installed ones with `parley models list`."
            ))
        })
    }

    /// How the engine is started for the model named `name`: its file checked, its settings,
    /// and the memory it needs against the memory free now.
    async fn launch(&self, name: &str) -> Result<Launch, String> {
        let model = self.installed(name).await.map_err(|e| e.to_string())?;
        let binary = engine_binary()?;
        let path = PathBuf::from(&model.path);
        let info = tokio::task::spawn_blocking(move || gguf::read(&path))
            .await
            .map_err(|e| e.to_string())?
            .map_err(|e| format!("The model file {} cannot be used: {e}.", model.path))?;
        let own = info.context_length.unwrap_or(DEFAULT_CONTEXT);
        let context = model
            .settings
            .context
            .map_or(own.min(DEFAULT_CONTEXT), u64::from);
        if let Some(mem) = sysmem::read() {
            memory::check(&info, context, mem.available)?;
        }
        Ok(Launch {
            binary,
            name: model.name.clone(),
            model: PathBuf::from(&model.path),
            context: u32::try_from(context).unwrap_or(u32::MAX),
            threads: model.settings.threads,
            gpu_layers: model.settings.gpu_layers,
        })
    }

    /// The engine serving `name`, started when needed.
    pub(crate) async fn serve(
        &self,
        name: &str,
        cancel: &CancellationToken,
    ) -> Result<Lease, String> {
        let launch = self.launch(name).await?;
        self.engine.serve(launch, cancel).await
    }

    /// Whether the engine run `run` is over (crashed, stopped, replaced).
    pub(crate) async fn is_over(&self, run: u64) -> bool {
        self.engine.is_over(run).await
    }
}

/// The program of the built-in engine: `$PARLEY_ENGINE`; else `parley-engine` beside Parley's
/// own program (where a bundle puts it: llama-server under Parley's name, so it never clashes
/// with another llama.cpp installed on the system) or `llama-server` there; else `llama-server`
/// on PATH.
pub fn engine_binary() -> Result<PathBuf, String> {
    let exe = std::env::consts::EXE_SUFFIX;
    let file = format!("llama-server{exe}");
    if let Some(p) = std::env::var_os("PARLEY_ENGINE").filter(|p| !p.is_empty()) {
        let p = PathBuf::from(p);
        if p.is_file() {
            return Ok(p);
        }
        if let Some(said) = preparing() {
            return Err(said);
        }
        return Err(format!(
            "The built-in engine named by PARLEY_ENGINE ({}) is not there.",
            p.display()
        ));
    }
    let dir = std::env::current_exe()
        .ok()
        .and_then(|e| e.parent().map(Path::to_path_buf));
    for name in [format!("parley-engine{exe}"), file.clone()] {
        if let Some(p) = dir.as_ref().map(|d| d.join(&name)).filter(|p| p.is_file()) {
            return Ok(p);
        }
    }
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|paths| std::env::split_paths(&paths).collect::<Vec<_>>())
        .map(|d| d.join(&file))
        .find(|p| p.is_file())
        .ok_or_else(|| "The built-in engine (llama-server) is not installed: it is not beside Parley's program nor on PATH. `cargo xtask run` prepares it; a Parley bundle ships it.".to_owned())
}

/// While `cargo xtask run` prepares the engine beside the app, what it is doing, from the
/// preparation's log (`PARLEY_ENGINE_PREPARING`): building (with the build's percentage), or
/// failed.
fn preparing() -> Option<String> {
    let log = PathBuf::from(std::env::var_os("PARLEY_ENGINE_PREPARING")?);
    let text = std::fs::read_to_string(&log).ok()?;
    Some(preparing_from(&text, &log))
}

/// The sentence for a preparation log's `text`.
pub(super) fn preparing_from(text: &str, log: &Path) -> String {
    if text.contains("PREPARATION FAILED") {
        return format!(
            "The built-in engine could not be prepared; `cargo xtask run` says why, and its output is in {}.",
            log.display()
        );
    }
    let percent = text.lines().rev().find_map(|l| {
        let inner = l.trim_start().strip_prefix('[')?.split_once("%]")?.0.trim();
        inner.parse::<u8>().ok()
    });
    match percent {
        Some(p) => format!("Parley's built-in engine is being prepared: building llama.cpp ({p}%). It is ready in a few minutes."),
        None => "Parley's built-in engine is being prepared: fetching llama.cpp and the starter model. It is ready in a few minutes.".into(),
    }
}

/// Why an installed model cannot be used now, if it cannot.
fn problem(m: &LocalModel) -> Option<String> {
    match std::fs::metadata(&m.path) {
        Err(_) => Some(format!("Its file is gone: {}", m.path)),
        Ok(meta) if meta.len() != m.size => Some(format!(
            "Its file changed since it was added ({} then, {} now).",
            memory::human(m.size),
            memory::human(meta.len())
        )),
        Ok(_) => None,
    }
}

/// A model file read: the file (canonical), its header, and which keeper names it how.
type ReadModel = (PathBuf, gguf::GgufInfo, Option<(ModelSource, String)>);

/// Reads the model at `path`: the file (canonical), its header, and — when Ollama or LM Studio
/// keeps it — which and the name it has there.
fn read_model(path: &Path, places: &discover::Places) -> Result<ReadModel, CoreError> {
    let meta = std::fs::metadata(path)
        .map_err(|e| CoreError::InvalidInput(format!("{} cannot be read: {e}.", path.display())))?;
    if !meta.is_file() {
        return Err(CoreError::InvalidInput(format!(
            "{} is not a file.",
            path.display()
        )));
    }
    let path = path.canonicalize().unwrap_or_else(|_| path.to_owned());
    let info = gguf::read(&path).map_err(|e| {
        CoreError::InvalidInput(format!(
            "{} is not a model Parley can use: {e}.",
            path.display()
        ))
    })?;
    let keeper = discover::find(places)
        .into_iter()
        .find(|f| f.path.canonicalize().unwrap_or_else(|_| f.path.clone()) == path)
        .map(|f| (source_of(f.keeper), f.name));
    Ok((path, info, keeper))
}

fn source_of(k: discover::Keeper) -> ModelSource {
    match k {
        discover::Keeper::Ollama => ModelSource::Ollama,
        discover::Keeper::LmStudio => ModelSource::LmStudio,
    }
}

fn found_model(f: discover::Found) -> FoundModel {
    FoundModel {
        name: f.name,
        path: f.path.display().to_string(),
        source: source_of(f.keeper),
        architecture: f.info.architecture.clone(),
        parameters: f.info.parameters,
        quantisation: f.info.quantisation.clone(),
        size: f.info.file_size,
    }
}

pub(super) fn describe(
    name: String,
    path: &Path,
    source: ModelSource,
    info: &gguf::GgufInfo,
) -> LocalModel {
    LocalModel {
        name,
        path: path.display().to_string(),
        source,
        architecture: info.architecture.clone(),
        parameters: info.parameters,
        quantisation: info.quantisation.clone(),
        context_length: info.context_length.and_then(|c| u32::try_from(c).ok()),
        size: info.file_size,
        chat_template: info.chat_template.is_some(),
        settings: ModelSettings::default(),
        added_at: now_ms(),
        problem: None,
    }
}

/// A model's name from its file: the file name without `.gguf`.
fn stem(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let name = name.strip_suffix(".gguf").unwrap_or(&name).to_owned();
    let clean: String = name.chars().filter(|c| !c.is_control()).take(80).collect();
    if clean.trim().is_empty() {
        "model".into()
    } else {
        clean
    }
}

pub(super) fn checked_name(name: &str) -> Result<String, CoreError> {
    // Hidden characters (zero-width, bidi overrides) would let two names look alike.
    let hidden = parley_protocol::visible::mark_hidden(name) != name;
    if name.is_empty() || name.chars().count() > 80 || name.chars().any(char::is_control) || hidden
    {
        return Err(CoreError::InvalidInput(
            "A model's name must be 1 to 80 characters without control or hidden characters."
                .into(),
        ));
    }
    Ok(name.to_owned())
}

fn name_taken(taken: &[LocalModel], name: &str) -> bool {
    taken
        .iter()
        .any(|m| m.name.to_lowercase() == name.to_lowercase())
}

/// The settings' bounds: a context between 512 tokens and the model's own (or 1M when it does
/// not say), 1–256 threads, 0–999 GPU layers.
fn check_settings(model: &LocalModel, s: &ModelSettings) -> Result<(), CoreError> {
    let most = model.context_length.unwrap_or(1 << 20);
    if let Some(c) = s.context {
        if u64::from(c) < memory::CONTEXT_MIN || c > most {
            return Err(CoreError::InvalidInput(format!(
                "The context must be between {} and {most} tokens for {}.",
                memory::CONTEXT_MIN,
                model.name
            )));
        }
    }
    if s.threads.is_some_and(|t| t == 0 || t > 256) {
        return Err(CoreError::InvalidInput(
            "Threads must be between 1 and 256.".into(),
        ));
    }
    if s.gpu_layers.is_some_and(|g| g > 999) {
        return Err(CoreError::InvalidInput(
            "GPU layers must be between 0 and 999.".into(),
        ));
    }
    Ok(())
}

/// The installed models as a provider lists them.
pub(super) fn model_infos(models: &[LocalModel]) -> Vec<ModelInfo> {
    models
        .iter()
        .map(|m| ModelInfo {
            id: m.name.clone(),
            owned_by: Some("on this computer".into()),
            display_name: None,
            context_window: Some(m.settings.context.unwrap_or_else(|| {
                m.context_length
                    .map_or(DEFAULT_CONTEXT as u32, |c| c.min(DEFAULT_CONTEXT as u32))
            })),
            max_output_tokens: None,
            tools: None,
            vision: Some(false),
            reasoning: None,
        })
        .collect()
}

/// An engine failure as a provider error.
pub(super) fn engine_error(why: String) -> ProviderError {
    ProviderError::new(ProviderErrorKind::Engine, why)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_preparation_log_says_what_is_happening() {
        let log = Path::new("/c/engine-preparing.log");
        let fetching = preparing_from(
            "Preparing Parley's built-in engine\n$ python3 -m pip download\n",
            log,
        );
        assert!(fetching.contains("fetching"), "{fetching}");
        let building = preparing_from(
            "$ cmake --build\n[  7%] Building C\n[ 43%] Building CXX object x.o\nwarning: [ 9%]\n",
            log,
        );
        assert!(building.contains("(43%)"), "{building}");
        let failed = preparing_from("[ 99%] Building\nPREPARATION FAILED: cmake failed\n", log);
        assert!(
            failed.contains("could not be prepared") && failed.contains("/c/engine-preparing.log"),
            "{failed}"
        );
    }
}
