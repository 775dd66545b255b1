//! Local models: the models Parley runs itself with its built-in engine (llama.cpp's
//! llama-server, a supervised child process: `engine`, `spawn`), offered to every chat as the
//! provider "On this computer (built in)" (`providers::builtin`, through [`ModelService`]).
//! Their files are added from disk or found where Ollama and LM Studio keep them (`discover`),
//! used in place; each is read safely by its GGUF header first (`gguf`), and checked against
//! this computer's memory before it is loaded (`memory`, `sysmem`). Models are downloaded from
//! a hub with range requests and checked against its SHA-256 (`download`, run by `pull`).
//! Queries: `store`.

pub mod catalogue;
pub mod discover;
pub mod download;
mod engine;
pub mod gguf;
mod loading;
pub mod memory;
mod port;
mod provider;
mod pull;
mod service;
mod spawn;
mod store;
pub mod sysmem;

pub use download::Progress;
pub use pull::DEFAULT_HUB;
pub use service::{engine_binary, ModelService};
