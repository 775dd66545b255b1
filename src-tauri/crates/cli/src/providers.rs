//! `parley providers add|list|models|discover|remove`.

use crate::term::{self, field};
use crate::{invalid, Failure};
use clap::{Subcommand, ValueEnum};
use parley_core::Core;
use parley_protocol::{ProviderDraft, ProviderKind};
use std::io::Read;

#[derive(Clone, Copy, ValueEnum)]
pub enum KindArg {
    Openai,
    OpenaiResponses,
    OpenaiCompatible,
    Anthropic,
    Gemini,
    Ollama,
}

impl From<KindArg> for ProviderKind {
    fn from(k: KindArg) -> Self {
        match k {
            KindArg::Openai => ProviderKind::Openai,
            KindArg::OpenaiResponses => ProviderKind::OpenaiResponses,
            KindArg::OpenaiCompatible => ProviderKind::OpenaiCompatible,
            KindArg::Anthropic => ProviderKind::Anthropic,
            KindArg::Gemini => ProviderKind::Gemini,
            KindArg::Ollama => ProviderKind::Ollama,
        }
    }
}

#[derive(Subcommand)]
pub enum ProvidersCmd {
    /// Add a provider. The key (from stdin) goes to the OS keychain, nowhere else.
    Add {
        /// A name for it, e.g. "local" or "openai".
        name: String,
        /// The wire format it speaks.
        #[arg(long, value_enum)]
        kind: KindArg,
        /// Its base URL, e.g. http://127.0.0.1:8080/v1.
        #[arg(long)]
        base_url: String,
        /// The model to use when none is given.
        #[arg(long)]
        model: Option<String>,
        /// Read the API key from standard input.
        #[arg(long)]
        key_stdin: bool,
    },
    /// List providers (keys are never shown, only whether one is saved).
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// List the models a provider offers.
    Models {
        /// The provider's name.
        name: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Look for model servers running on this computer (127.0.0.1 only, the usual ports).
    Discover {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Remove a provider and its key.
    Remove {
        /// The provider's name.
        name: String,
    },
}

pub async fn run(core: &Core, cmd: ProvidersCmd) -> Result<(), Failure> {
    match cmd {
        ProvidersCmd::Add {
            name,
            kind,
            base_url,
            model,
            key_stdin,
        } => {
            let draft = ProviderDraft {
                name,
                kind: kind.into(),
                base_url,
                default_model: model,
                api_key: if key_stdin {
                    Some(key_from_stdin()?)
                } else {
                    None
                },
            };
            add(core, draft).await
        }
        ProvidersCmd::List { json } => list(core, json).await,
        ProvidersCmd::Models { name, json } => models(core, &name, json).await,
        ProvidersCmd::Discover { json } => discover(core, json).await,
        ProvidersCmd::Remove { name } => {
            core.providers().remove_provider(&name).await?;
            errln!("Removed provider \"{}\" and its key.", field(&name));
            Ok(())
        }
    }
}

/// The key given on standard input (`--key-stdin`), trimmed; empty is an error.
pub(crate) fn key_from_stdin() -> Result<String, Failure> {
    let mut key = String::new();
    std::io::stdin()
        .read_to_string(&mut key)
        .map_err(|e| invalid(format!("could not read the key from stdin: {e}")))?;
    let key = key.trim().to_owned();
    if key.is_empty() {
        return Err(invalid(
            "--key-stdin was given but standard input was empty.",
        ));
    }
    Ok(key)
}

/// `providers add`.
async fn add(core: &Core, draft: ProviderDraft) -> Result<(), Failure> {
    let info = core.providers().add_provider(draft).await?;
    let key_note = if info.has_key {
        " (key saved in the system keychain)"
    } else {
        ""
    };
    errln!(
        "Added provider \"{}\" at {}{key_note}.",
        info.name,
        info.base_url
    );
    if let Some(w) = &info.key_warning {
        errln!("warning: {w}");
    }
    Ok(())
}

/// `providers list`.
async fn list(core: &Core, json: bool) -> Result<(), Failure> {
    let list = core.providers().list_providers().await?;
    if json {
        return term::json(&list);
    }
    if list.is_empty() {
        errln!("No providers yet. Add one: parley providers add NAME --kind openai-compatible --base-url URL --model MODEL");
    }
    for p in list {
        if p.name == parley_protocol::BUILTIN_PROVIDER {
            outln!(
                "{}\tbuilt-in\tthis computer\tmodel={}\tkey=a new one each run",
                field(&p.name),
                field(p.default_model.as_deref().unwrap_or("-")),
            )?;
            continue;
        }
        outln!(
            "{}\t{}\t{}\tmodel={}\tkey={}",
            field(&p.name),
            p.kind.as_str(),
            field(&p.base_url),
            field(p.default_model.as_deref().unwrap_or("-")),
            if p.has_key { "saved" } else { "none" }
        )?;
        if let Some(w) = &p.key_warning {
            errln!("warning ({}): {w}", field(&p.name));
        }
    }
    Ok(())
}

/// `providers models NAME`: always fetched fresh; when that fails, the models cached before
/// (if any) are shown with a warning, else the reason is the error.
async fn models(core: &Core, name: &str, json: bool) -> Result<(), Failure> {
    let list = core.providers().list_models(name, true).await?;
    if let Some(e) = list.error {
        if list.models.is_empty() {
            return Err(Failure { info: e, code: 1 });
        }
        errln!(
            "warning: could not refresh the model list ({}); these are the models cached before.",
            e.message
        );
    }
    let models = list.models;
    if json {
        return term::json(&models);
    }
    for m in models {
        outln!("{}", field(&m.id))?;
    }
    Ok(())
}

/// `providers discover`: model servers running on this computer.
async fn discover(core: &Core, json: bool) -> Result<(), Failure> {
    let found = core.providers().discover_local().await?;
    if json {
        return term::json(&found);
    }
    if found.is_empty() {
        errln!("No model server is running on this computer (checked Ollama, LM Studio, llama.cpp, vLLM, Jan, KoboldCpp on 127.0.0.1).");
    }
    for s in found {
        let kind = s.kind.as_str();
        let added = s
            .configured_as
            .map(|n| format!(" (configured as \"{}\")", field(&n)))
            .unwrap_or_default();
        outln!(
            "{}\t{}\t--kind {kind}\t{} models{added}",
            field(&s.label),
            field(&s.base_url),
            s.models.len()
        )?;
    }
    Ok(())
}
