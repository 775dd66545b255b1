//! The starter model the real-peer suite runs (SmolLM2-135M-Instruct, Q4_1, from the package
//! registry): its GGUF header reads as what it is — what the model manager will show of it and
//! what the memory estimate works from.

use parley_core::models::{gguf, memory};
use std::path::Path;

#[test]
#[ignore = "needs the starter model: run by `cargo xtask test`"]
fn peer_the_starter_models_header_reads_as_what_it_is() {
    let path = std::env::var_os("PARLEY_LLAMA_MODEL")
        .expect("PARLEY_LLAMA_MODEL names the starter model: run `cargo xtask test`");
    let info = gguf::read(Path::new(&path)).unwrap();
    assert_eq!(info.architecture, "llama");
    assert_eq!(info.layers, Some(30));
    assert_eq!((info.heads, info.kv_heads), (Some(9), Some(3)));
    assert_eq!(info.context_length, Some(8192));
    assert_eq!(info.quantisation.as_deref(), Some("Q4_1"));
    assert!(
        (130_000_000..140_000_000).contains(&info.parameters),
        "{}",
        info.parameters
    );
    assert!(info
        .chat_template
        .as_deref()
        .is_some_and(|t| t.contains("im_start")));
    // Its whole context fits in a gigabyte, with room to spare.
    let need = memory::check(&info, 8192, 1024 * 1024 * 1024).unwrap();
    assert_eq!(need.kv_cache, 8192 * 30 * 3 * 128 * 2);
}
