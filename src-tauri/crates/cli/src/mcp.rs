//! `parley mcp add|list|remove|enable|disable|import`: MCP servers' configuration. Values of
//! environment variables and headers go to the OS keychain; they never appear in output.

use crate::term::{self, field};
use crate::{invalid, Failure};
use clap::Subcommand;
use parley_core::Core;
use parley_protocol::{McpImportReport, McpServer, McpServerInput, McpTransport, NamedValue};
use std::io::Read;
use std::path::PathBuf;

#[derive(Subcommand)]
pub enum McpCmd {
    /// Add a server: `parley mcp add NAME -- PROGRAM ARGS…` (local) or `--url URL` (remote).
    Add {
        /// A short name (letters, digits, - and _); it prefixes the server's tools.
        name: String,
        /// A remote server's address (streamable HTTP).
        #[arg(long, conflicts_with = "command")]
        url: Option<String>,
        /// An environment variable for a local server: NAME=VALUE, or NAME to take the value
        /// from this command's own environment (kept out of your shell history). Repeatable.
        #[arg(long, value_name = "NAME[=VALUE]")]
        env: Vec<String>,
        /// A header for a remote server, as "Name: value". Repeatable.
        #[arg(long, value_name = "NAME: VALUE")]
        header: Vec<String>,
        /// A header whose value is read from standard input (a token).
        #[arg(long, value_name = "NAME")]
        header_stdin: Option<String>,
        /// Add it turned off.
        #[arg(long)]
        disabled: bool,
        /// Replace the server of the same name (values not given again are forgotten).
        #[arg(long)]
        replace: bool,
        /// The program and its arguments (after `--`).
        #[arg(last = true, value_name = "PROGRAM ARGS")]
        command: Vec<String>,
    },
    /// List servers (names of their variables and headers; values are never shown).
    List {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Remove a server and forget its values.
    Remove {
        /// The server's name.
        name: String,
    },
    /// Turn a server's tools on.
    Enable {
        /// The server's name.
        name: String,
    },
    /// Turn a server's tools off (it stays configured).
    Disable {
        /// The server's name.
        name: String,
    },
    /// Reach a server (starting it if it is local), show the protocol it speaks, its tools and
    /// the last lines of its log, then close it.
    Test {
        /// The server's name.
        name: String,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
    /// List a server's tools with their descriptions (reaching the server). A tool whose
    /// definition changed since it was first seen is blocked until its new definition is
    /// accepted with --accept TOOL:HASH (the hash shown beside it).
    Tools {
        /// The server's name.
        name: String,
        /// Accept a changed tool's new definition, named by the hash shown. Repeatable.
        #[arg(long, value_name = "TOOL:HASH")]
        accept: Vec<String>,
        /// Mark a tool read-only, its definition named by the hash shown: its calls then run
        /// without asking where read-only calls do. A later change of the tool voids the mark.
        /// Repeatable.
        #[arg(long, value_name = "TOOL:HASH")]
        read_only: Vec<String>,
        /// Take the read-only mark off a tool: its calls ask again. Repeatable.
        #[arg(long, value_name = "TOOL")]
        asks: Vec<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// A server's prompts, with their arguments.
    Prompts {
        /// The server's name.
        name: String,
        /// The folder the server may see (its root); none when not given.
        #[arg(long, value_name = "DIR")]
        workspace: Option<PathBuf>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// The text of one of a server's prompts (to read, or to pass to `parley ask`).
    Prompt {
        /// The server's name.
        name: String,
        /// The prompt's name.
        prompt: String,
        /// An argument, NAME=VALUE. Repeatable.
        #[arg(long = "arg", value_name = "NAME=VALUE")]
        args: Vec<String>,
        /// The folder the server may see (its root); none when not given.
        #[arg(long, value_name = "DIR")]
        workspace: Option<PathBuf>,
        /// Print JSON (the text, and whether it holds hidden characters).
        #[arg(long)]
        json: bool,
    },
    /// A server's resources (attachable to a message).
    Resources {
        /// The server's name.
        name: String,
        /// The folder the server may see (its root); none when not given.
        #[arg(long, value_name = "DIR")]
        workspace: Option<PathBuf>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// One of a server's resources, read (exact into a pipe or a file).
    Resource {
        /// The server's name.
        name: String,
        /// The resource's address, as `parley mcp resources` lists it.
        uri: String,
        /// The folder the server may see (its root); none when not given.
        #[arg(long, value_name = "DIR")]
        workspace: Option<PathBuf>,
    },
    /// Sign in to a remote server with OAuth (in the system browser; the tokens go to the
    /// system keychain).
    Login {
        /// The server's name.
        name: String,
    },
    /// Sign out of a remote server: its tokens are forgotten.
    Logout {
        /// The server's name.
        name: String,
    },
    /// Add the servers of another client's configuration file (Claude Desktop's, an mcp.json):
    /// sound entries are added, the rest reported.
    Import {
        /// The file (JSON with "mcpServers" or "servers").
        file: PathBuf,
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
    },
}

pub async fn run(core: &Core, cmd: McpCmd) -> Result<(), Failure> {
    match cmd {
        McpCmd::Add {
            name,
            url,
            env,
            header,
            header_stdin,
            disabled,
            replace,
            command,
        } => {
            let transport = transport_of(url, command)?;
            let mut headers = header
                .iter()
                .map(|h| header_of(h))
                .collect::<Result<Vec<_>, _>>()?;
            if let Some(name) = header_stdin {
                headers.push(NamedValue {
                    name,
                    value: value_from_stdin()?,
                });
            }
            let input = McpServerInput {
                name,
                transport,
                env: env.iter().map(|e| env_of(e)).collect::<Result<_, _>>()?,
                headers,
                enabled: !disabled,
            };
            let s = core.mcp().add(input, replace).await?;
            errln!(
                "Added MCP server \"{}\" ({}){}.",
                s.name,
                where_of(&s),
                values_note(&s)
            );
            Ok(())
        }
        McpCmd::List { json } => list(core, json).await,
        McpCmd::Remove { name } => {
            let s = core.mcp().remove(&name).await?;
            errln!(
                "Removed MCP server \"{}\" and its saved values.",
                field(&s.name)
            );
            Ok(())
        }
        McpCmd::Enable { name } => switch(core, &name, true).await,
        McpCmd::Disable { name } => switch(core, &name, false).await,
        McpCmd::Import { file, json } => import(core, &file, json).await,
        McpCmd::Test { name, json } => test(core, &name, json).await,
        McpCmd::Tools {
            name,
            accept,
            read_only,
            asks,
            json,
        } => crate::mcp_tools::run(core, &name, (&accept, &read_only, &asks), json).await,
        McpCmd::Login { name } => crate::mcp_login::login(core, &name).await,
        McpCmd::Logout { name } => crate::mcp_login::logout(core, &name).await,
        other => offered(core, other).await,
    }
}

/// What a server offers besides tools: its prompts and resources.
async fn offered(core: &Core, cmd: McpCmd) -> Result<(), Failure> {
    match cmd {
        McpCmd::Prompts {
            name,
            workspace,
            json,
        } => crate::mcp_prompts::list(core, &name, &workspace, json).await,
        McpCmd::Prompt {
            name,
            prompt,
            args,
            workspace,
            json,
        } => crate::mcp_prompts::text(core, (&name, &prompt), &args, &workspace, json).await,
        McpCmd::Resources {
            name,
            workspace,
            json,
        } => crate::mcp_resources::list(core, &name, &workspace, json).await,
        McpCmd::Resource {
            name,
            uri,
            workspace,
        } => crate::mcp_resources::read(core, (&name, &uri), &workspace).await,
        _ => Ok(()),
    }
}

async fn switch(core: &Core, name: &str, on: bool) -> Result<(), Failure> {
    let s = core.mcp().set_enabled(name, on).await?;
    let state = if on { "on" } else { "off" };
    errln!("MCP server \"{}\" is {state}.", field(&s.name));
    Ok(())
}

/// A local program after `--`, or a remote address; exactly one.
fn transport_of(url: Option<String>, command: Vec<String>) -> Result<McpTransport, Failure> {
    match (url, command.split_first()) {
        (Some(url), None) => Ok(McpTransport::Http { url }),
        (None, Some((program, args))) => Ok(McpTransport::Stdio {
            command: program.clone(),
            args: args.to_vec(),
        }),
        _ => Err(invalid(
            "Give the server's program after `--` (parley mcp add NAME -- npx -y some-server) or its address with --url.",
        )),
    }
}

/// `NAME=VALUE`, or `NAME` with the value from this process's environment.
fn env_of(arg: &str) -> Result<NamedValue, Failure> {
    if let Some((name, value)) = arg.split_once('=') {
        return Ok(NamedValue {
            name: name.to_owned(),
            value: value.to_owned(),
        });
    }
    let value = std::env::var(arg).map_err(|_| {
        invalid(format!(
            "--env {}: no value given and no such variable in this environment (give NAME=VALUE, or export NAME first).",
            field(arg)
        ))
    })?;
    Ok(NamedValue {
        name: arg.to_owned(),
        value,
    })
}

/// `Name: value`.
fn header_of(arg: &str) -> Result<NamedValue, Failure> {
    let (name, value) = arg
        .split_once(':')
        .ok_or_else(|| invalid("A header is given as \"Name: value\"."))?;
    Ok(NamedValue {
        name: name.trim().to_owned(),
        value: value.trim().to_owned(),
    })
}

/// A value read from standard input, without its line end; empty is an error.
fn value_from_stdin() -> Result<String, Failure> {
    let mut v = String::new();
    std::io::stdin()
        .read_to_string(&mut v)
        .map_err(|e| invalid(format!("could not read the header's value from stdin: {e}")))?;
    let v = v.trim_end_matches(['\r', '\n']).to_owned();
    if v.is_empty() {
        return Err(invalid(
            "--header-stdin was given but standard input was empty.",
        ));
    }
    Ok(v)
}

fn where_of(s: &McpServer) -> String {
    match &s.transport {
        McpTransport::Stdio { command, args } => {
            let mut all = vec![field(command)];
            all.extend(args.iter().map(|a| field(a)));
            format!("runs: {}", all.join(" "))
        }
        McpTransport::Http { url } => format!("at {}", field(url)),
    }
}

fn values_note(s: &McpServer) -> String {
    let n = s.env_names.len() + s.header_names.len();
    match n {
        0 => String::new(),
        1 => "; its value is in the system keychain".into(),
        _ => format!("; {n} values are in the system keychain"),
    }
}

async fn list(core: &Core, json: bool) -> Result<(), Failure> {
    let servers = core.mcp().list().await?;
    if json {
        return term::json(&servers);
    }
    if servers.is_empty() {
        errln!("No MCP servers. Add one with `parley mcp add NAME -- PROGRAM ARGS…` or `--url URL`, or `parley mcp import FILE`.");
        return Ok(());
    }
    for s in &servers {
        let state = if s.enabled { "on " } else { "off" };
        outln!("{}  {state}  {}", field(&s.name), where_of(s))?;
        let era = match s.protocol.as_deref() {
            None => "not reached yet".to_owned(),
            Some(v) if v >= "2026-07-28" => format!("protocol {} (stateless)", field(v)),
            Some(v) => format!("protocol {} (initialize handshake)", field(v)),
        };
        outln!("      {era}")?;
        if s.signed_in {
            outln!("      signed in (the tokens are in the keychain)")?;
        }
        let names: Vec<String> = s
            .env_names
            .iter()
            .chain(&s.header_names)
            .map(|n| field(n))
            .collect();
        if !names.is_empty() {
            outln!("      values in the keychain: {}", names.join(", "))?;
        }
    }
    Ok(())
}

async fn import(core: &Core, file: &std::path::Path, json: bool) -> Result<(), Failure> {
    let meta = std::fs::metadata(file)
        .map_err(|e| invalid(format!("Could not read {}: {e}", file.display())))?;
    if !meta.is_file() || meta.len() > parley_core::mcp::import::FILE_MAX as u64 {
        return Err(invalid(format!(
            "{} is not an MCP configuration file (a regular file of up to 1 MB).",
            file.display()
        )));
    }
    let text = std::fs::read_to_string(file)
        .map_err(|e| invalid(format!("Could not read {}: {e}", file.display())))?;
    let report = core.mcp().import_config(&text).await?;
    if json {
        return term::json(&report);
    }
    print_report(&report)
}

fn print_report(r: &McpImportReport) -> Result<(), Failure> {
    match r.added.len() {
        0 => outln!("No servers added.")?,
        n => outln!(
            "Added {n} server{}: {}",
            if n == 1 { "" } else { "s" },
            r.added.join(", ")
        )?,
    }
    for s in &r.skipped {
        outln!("Left out {}: {}.", field(&s.name), field(&s.reason))?;
    }
    for f in &r.ignored_fields {
        outln!("Not used (Parley has no such setting): {}", field(f))?;
    }
    Ok(())
}

async fn test(core: &Core, name: &str, json: bool) -> Result<(), Failure> {
    let r = core.mcp().test(name).await?;
    if json {
        return term::json(&r);
    }
    let era = if r.era == "stateless" {
        "stateless, no session"
    } else {
        "initialize handshake"
    };
    outln!(
        "{}: protocol {} ({era})",
        field(&r.server),
        field(&r.protocol_version)
    )?;
    if let Some(info) = &r.server_info {
        outln!("server: {}", field(info))?;
    }
    outln!(
        "{} tools: {}",
        r.tools.len(),
        r.tools
            .iter()
            .map(|t| field(&t.tool.name))
            .collect::<Vec<_>>()
            .join(", ")
    )?;
    if !r.log.is_empty() {
        outln!("log (last lines):")?;
        for line in &r.log {
            outln!("  {}", field(line))?;
        }
    }
    Ok(())
}

/// Adds the MCP servers named with `--mcp` to the chat's tools (the built-in ones stay as
/// they were); they need a workspace.
pub(crate) async fn offer_servers(
    core: &Core,
    chat_id: &parley_protocol::ChatId,
    servers: &[String],
) -> Result<(), Failure> {
    if servers.is_empty() {
        return Ok(());
    }
    let mut params = core.chats().get_chat(chat_id).await?.params;
    if params.workspace.is_none() {
        return Err(invalid(
            "MCP servers' tools run in a workspace (their roots): give --workspace DIR too.",
        ));
    }
    let mut tools = params.tools.take().unwrap_or_else(|| {
        core.tools()
            .list_tools()
            .into_iter()
            .map(|t| t.name)
            .collect()
    });
    for name in servers {
        let server = core.mcp().get(name).await?;
        let entry = format!("{}{}", parley_core::mcp::SERVER_ENTRY, server.name);
        if !tools.contains(&entry) {
            tools.push(entry);
        }
    }
    params.tools = Some(tools);
    core.chats().set_chat_params(chat_id, params).await?;
    Ok(())
}
