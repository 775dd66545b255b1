//! `parley models list|add|remove|set|status|log|idle|stop`: the models the built-in engine runs
//! ("On this computer (built in)" in `parley providers list` and `parley ask --provider`).

use crate::term::{self, field};
use crate::Failure;
use clap::Subcommand;
use parley_core::Core;
use parley_protocol::{EngineState, LocalModel, ModelSettings, ModelSource};

#[derive(Subcommand)]
pub enum ModelsCmd {
    /// The installed models, and those Ollama and LM Studio keep on this computer (add them
    /// with `parley models add PATH`: they are used in place).
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Add a GGUF model file from disk (used in place, never copied).
    Add {
        /// The file.
        file: String,
        /// Its name in Parley (default: the file's name, or Ollama's or LM Studio's).
        #[arg(long)]
        name: Option<String>,
        /// Print the model as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Download a model from the hub (`owner/repo:file.gguf`), verified by its SHA-256 before
    /// it is added. A cut or an interrupted download resumes when pulled again.
    Pull {
        /// The hub's repository and file, as owner/repo:file.gguf.
        reference: String,
        /// Its name in Parley (default: the file's name without .gguf).
        #[arg(long)]
        name: Option<String>,
        /// Print the model as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Small instruction models to pull, and which fit this computer's memory.
    Catalogue {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show the hub's address, or set it (a mirror, a server on a closed network).
    Hub {
        /// The new address (http or https).
        address: Option<String>,
    },
    /// Remove a model from Parley (a file Parley downloaded is deleted; yours stays).
    Remove {
        /// The model's name.
        name: String,
    },
    /// How the engine runs a model: context size, threads, GPU layers (0 clears the context or
    /// the threads: the engine's choice again; 0 GPU layers means none).
    Set {
        /// The model's name.
        name: String,
        /// Context size in tokens.
        #[arg(long)]
        context: Option<u32>,
        /// CPU threads.
        #[arg(long)]
        threads: Option<u32>,
        /// Layers offloaded to a GPU (builds with GPU support).
        #[arg(long)]
        gpu_layers: Option<u32>,
    },
    /// What the engine is doing, and where its program is.
    Status {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Unload the model after this many seconds without a request (0: keep it loaded).
    Idle {
        /// Seconds.
        seconds: u32,
    },
}

pub async fn run(core: &Core, cmd: ModelsCmd) -> Result<(), Failure> {
    let models = core.models();
    match cmd {
        ModelsCmd::List { json } => list(core, json).await,
        ModelsCmd::Add { file, name, json } => {
            let m = models.add(&file, name).await?;
            if json {
                return term::json(&m);
            }
            outln!("Added {}", describe(&m))
        }
        ModelsCmd::Pull {
            reference,
            name,
            json,
        } => pull(core, &reference, name, json).await,
        ModelsCmd::Catalogue { json } => {
            let all = core.models().catalogue();
            if json {
                return term::json(&all);
            }
            for e in all {
                let mark = match (e.recommended, e.fits) {
                    (true, _) => "recommended",
                    (false, true) => "fits",
                    (false, false) => "too big for this computer",
                };
                outln!(
                    "{}  {}  wants {} of memory  {mark}\n    {}  ({})",
                    e.name,
                    human(e.size),
                    human(e.memory),
                    e.reference,
                    e.good_for
                )?;
            }
            Ok(())
        }
        ModelsCmd::Hub { address } => {
            let hub = match address {
                Some(a) => core.models().set_hub(&a).await?,
                None => core.models().hub().await?,
            };
            outln!("{}", field(&hub))
        }
        ModelsCmd::Remove { name } => {
            let m = models.remove(&name).await?;
            let what = if m.source == ModelSource::Download {
                "its file was deleted"
            } else {
                "its file was left where it is"
            };
            outln!("Removed {} ({what}).", field(&m.name))
        }
        ModelsCmd::Set {
            name,
            context,
            threads,
            gpu_layers,
        } => set(core, &name, context, threads, gpu_layers).await,
        ModelsCmd::Status { json } => status(core, json),
        ModelsCmd::Idle { seconds } => {
            let s = models.set_idle(seconds).await?;
            match s.idle_seconds {
                0 => outln!("The model stays loaded until Parley quits."),
                n => outln!("The model is unloaded after {n} s without a request."),
            }
        }
    }
}

/// Downloads a model, its progress on stderr once a second when that is a terminal.
async fn pull(
    core: &Core,
    reference: &str,
    name: Option<String>,
    json: bool,
) -> Result<(), Failure> {
    let progress = parley_core::models::Progress::for_reference(reference);
    let shown = progress.clone();
    let ticker = term::stderr_is_terminal().then(|| {
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
                if let Some(p) = &shown {
                    let i = p.snapshot();
                    let left = i
                        .eta_seconds
                        .map(|s| format!(" · {s} s left"))
                        .unwrap_or_default();
                    errln!(
                        "{} of {} · {}/s{left}",
                        human(i.done),
                        human(i.total),
                        human(i.speed)
                    );
                }
            }
        })
    });
    let got = core.models().pull(reference, name, progress).await;
    if let Some(t) = ticker {
        t.abort();
    }
    let m = got?;
    if json {
        return term::json(&m);
    }
    outln!("Downloaded and verified: {}", describe(&m))
}

async fn list(core: &Core, json: bool) -> Result<(), Failure> {
    let list = core.models().list().await?;
    if json {
        return term::json(&list);
    }
    if list.installed.is_empty() {
        outln!("No local models yet. Add a GGUF file with `parley models add FILE`.")?;
    }
    for m in &list.installed {
        outln!("{}", describe(m))?;
    }
    if !list.found.is_empty() {
        outln!("\nFound on this computer (add with `parley models add PATH`):")?;
    }
    for f in &list.found {
        outln!(
            "  {}  {}  {}  {}",
            field(&f.name),
            keeper(f.source),
            human(f.size),
            field(&f.path)
        )?;
    }
    Ok(())
}

/// Changes the settings given; 0 clears the context or threads (the engine's choice again).
async fn set(
    core: &Core,
    name: &str,
    context: Option<u32>,
    threads: Option<u32>,
    gpu_layers: Option<u32>,
) -> Result<(), Failure> {
    let models = core.models();
    let current = (models.list().await?.installed)
        .into_iter()
        .find(|m| m.name.eq_ignore_ascii_case(name));
    let base = current.map(|m| m.settings).unwrap_or_default();
    let settings = ModelSettings {
        context: context.map_or(base.context, |c| Some(c).filter(|n| *n != 0)),
        threads: threads.map_or(base.threads, |t| Some(t).filter(|n| *n != 0)),
        gpu_layers: gpu_layers.or(base.gpu_layers),
    };
    let m = models.set_settings(name, settings).await?;
    outln!("{}", describe(&m))
}

fn status(core: &Core, json: bool) -> Result<(), Failure> {
    let s = core.models().status();
    if json {
        return term::json(&s);
    }
    let state = match s.state {
        EngineState::Stopped => "stopped",
        EngineState::Loading => "loading",
        EngineState::Ready => "ready",
        EngineState::Failed => "failed",
    };
    let model = s.model.map(|m| format!(" ({})", field(&m)));
    outln!("engine: {state}{}", model.unwrap_or_default())?;
    outln!(
        "program: {}",
        s.binary.as_deref().map_or("not found".into(), field)
    )?;
    let idle = match s.idle_seconds {
        0 => "never".to_owned(),
        n => format!("after {n} s without a request"),
    };
    outln!("unloads: {idle}")?;
    if let Some(m) = s.message {
        outln!("{}", field(&m))?;
    }
    Ok(())
}

fn describe(m: &LocalModel) -> String {
    let mut line = format!(
        "{}  {}  {} parameters  {}  {}  {}",
        field(&m.name),
        field(&m.architecture),
        count(m.parameters),
        m.quantisation.as_deref().map_or("?".into(), field),
        human(m.size),
        keeper(m.source)
    );
    if let Some(c) = m.context_length {
        line.push_str(&format!("  context {c}"));
    }
    if let Some(p) = &m.problem {
        line.push_str(&format!("\n    problem: {}", field(p)));
    }
    line
}

fn keeper(s: ModelSource) -> &'static str {
    match s {
        ModelSource::File => "your file",
        ModelSource::Ollama => "Ollama's",
        ModelSource::LmStudio => "LM Studio's",
        ModelSource::Download => "downloaded",
    }
}

fn count(n: u64) -> String {
    match n {
        n if n >= 1_000_000_000 => format!("{:.1}B", n as f64 / 1e9),
        n if n >= 1_000_000 => format!("{}M", n / 1_000_000),
        n => n.to_string(),
    }
}

fn human(bytes: u64) -> String {
    parley_core::models::memory::human(bytes)
}
