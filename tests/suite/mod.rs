//! Parley's integration suites, one test binary.

mod agent;
mod anthropic;
mod cli;
mod engine;
mod gemini;
mod keychain;
mod ollama;
mod openai_fixtures;
mod openai_responses;
mod peer;
mod window;
