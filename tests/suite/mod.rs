//! Parley's integration suites, one test binary.

mod agent;
mod agent_grants;
#[cfg(unix)]
mod agent_holes;
mod agent_limits;
mod agent_paths;
mod anthropic;
mod architecture;
mod cli;
mod cli_approvals;
mod cli_find;
mod cli_import;
mod cli_inert;
mod cli_output;
mod cli_transfer;
mod cli_tree;
mod commands;
mod doors;
mod durability;
mod engine;
mod engine_faults;
mod engine_history;
mod gemini;
mod keychain;
#[cfg(unix)]
mod kill;
#[cfg(unix)]
mod kill_ops;
mod long;
mod migrations;
mod ollama;
mod openai_fixtures;
mod openai_responses;
mod orphans;
mod peer;
mod provider_changes;
mod providers_config;
mod redaction;
mod start_check;
mod tidy;
mod titles;
mod window;
mod window_agent;
mod window_attach;
mod window_card;
mod window_errors;
mod window_scale;
mod window_search;
mod window_settings;
mod window_transfer;
mod window_tree;
mod wire_attachments;
