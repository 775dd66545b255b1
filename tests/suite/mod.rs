//! Parley's integration suites, one test binary.

mod anthropic;
mod cli;
mod engine;
mod keychain;
mod ollama;
mod openai_fixtures;
mod window;
