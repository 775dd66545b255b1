//! Local models (issue 29, being built): the models Parley runs itself with its built-in
//! engine. So far its pure parts: reading a GGUF file's header safely (`gguf`: is it a model
//! Parley can load, and what it says about itself), estimating whether a model with a context
//! fits this computer's memory before it is loaded (`memory`), and finding the models Ollama
//! and LM Studio already keep on this computer, to be used in place (`discover`). The service, its
//! tables, the engine and the downloads follow, in this folder.

pub mod discover;
pub mod gguf;
pub mod memory;
