//! The tools the agent may run, and the safety checks every tool goes through, each pure and
//! table-tested: workspace containment ([`paths`]), shell command classification ([`shell`]),
//! the addresses `fetch_url` may reach ([`net`], [`fetch`]) and the environment a child
//! process gets ([`scrubbed_env`]). [`tool`] has the typed tool trait and its registry;
//! [`builtins`] lists what a chat with a workspace is offered.

pub mod ask;
pub mod code;
mod code_opts;
mod code_parse;
mod code_tables;
pub mod fetch;
pub mod files;
pub mod net;
pub mod orphans;
pub mod paths;
pub mod read;
pub mod run;
pub mod runtime;
pub mod search;
pub mod shell;
mod shell_tables;
pub mod tool;

/// The tools as settings and assistants list them.
#[derive(Clone, Copy, Debug, Default)]
pub struct ToolService;

impl ToolService {
    /// The built-in tools.
    pub fn list_tools(&self) -> Vec<parley_protocol::ToolInfo> {
        builtins().infos()
    }
}

/// The canonical path of a folder the user chose as a workspace (it must exist).
pub(crate) fn workspace_root(
    dir: Option<&std::path::Path>,
) -> Result<Option<String>, crate::CoreError> {
    dir.map(|d| {
        paths::Workspace::new(d)
            .map(|w| w.root().display().to_string())
            .map_err(|e| {
                crate::CoreError::InvalidInput(format!("That folder cannot be the workspace: {e}."))
            })
    })
    .transpose()
}

/// Every built-in tool, by name.
pub fn builtins() -> tool::Registry {
    let mut r = tool::Registry::new();
    r.add(files::ReadFile)
        .add(files::ListDir)
        .add(search::FindFiles)
        .add(search::Grep)
        .add(files::WriteFile)
        .add(files::EditFile)
        .add(run::RunShell)
        .add(fetch::FetchUrl::new())
        .add(ask::AskUser);
    r
}

/// Names of environment variables a tool's child process never inherits: anything that looks
/// like a credential, and the variables provider SDKs read keys and endpoints from.
pub fn is_secret_var(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    const WORDS: &[&str] = &[
        "KEY",
        "SECRET",
        "TOKEN",
        "PASSWORD",
        "PASSWD",
        "CREDENTIAL",
        "AUTH",
        "COOKIE",
        "SESSION",
    ];
    const PROVIDERS: &[&str] = &[
        "OPENAI_",
        "ANTHROPIC_",
        "GEMINI_",
        "GOOGLE_",
        "OLLAMA_",
        "OPENROUTER_",
        "GROQ_",
        "DEEPSEEK_",
        "MISTRAL_",
        "XAI_",
        "TOGETHER_",
        "AZURE_",
        "AWS_",
        "HF_",
        "HUGGING",
        "PARLEY_",
    ];
    WORDS.iter().any(|w| upper.contains(w)) || PROVIDERS.iter().any(|p| upper.starts_with(p))
}

/// The environment for a tool's child process: the parent's, minus [`is_secret_var`] names.
pub fn scrubbed_env(vars: impl IntoIterator<Item = (String, String)>) -> Vec<(String, String)> {
    vars.into_iter()
        .filter(|(k, _)| !is_secret_var(k))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_and_provider_variables_are_scrubbed() {
        let env = [
            "PATH",
            "HOME",
            "LANG",
            "TERM",
            "OPENAI_API_KEY",
            "OPENAI_BASE_URL",
            "ANTHROPIC_API_KEY",
            "GITHUB_TOKEN",
            "db_password",
            "AWS_SECRET_ACCESS_KEY",
            "AWS_REGION",
            "MY_SECRET",
            "SSH_AUTH_SOCK",
            "GOOGLE_APPLICATION_CREDENTIALS",
            "HF_HOME",
            "PARLEY_DATA_DIR",
        ]
        .map(|k| (k.to_owned(), "v".to_owned()));
        let kept: Vec<String> = scrubbed_env(env).into_iter().map(|(k, _)| k).collect();
        assert_eq!(kept, ["PATH", "HOME", "LANG", "TERM"]);
    }
}
