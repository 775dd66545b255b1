//! A short catalogue of small instruction models to download, each with its size and the memory
//! it wants with a 4K context, so that the window and the CLI offer what fits this computer.
//! References as the hub names them (December 2026); a file renamed upstream fails with the
//! hub's own "has no file named", never silently.

use parley_protocol::CatalogueModel;

/// (name, reference, bytes, what it is good for)
const ENTRIES: [(&str, &str, u64, &str); 6] = [
    (
        "Qwen2.5 0.5B Instruct (Q4_K_M)",
        "Qwen/Qwen2.5-0.5B-Instruct-GGUF:qwen2.5-0.5b-instruct-q4_k_m.gguf",
        491_400_032,
        "tiny and quick; simple questions",
    ),
    (
        "Llama 3.2 1B Instruct (Q4_K_M)",
        "bartowski/Llama-3.2-1B-Instruct-GGUF:Llama-3.2-1B-Instruct-Q4_K_M.gguf",
        807_694_464,
        "small, general chat",
    ),
    (
        "Qwen2.5 1.5B Instruct (Q4_K_M)",
        "Qwen/Qwen2.5-1.5B-Instruct-GGUF:qwen2.5-1.5b-instruct-q4_k_m.gguf",
        1_117_320_736,
        "small, good at following instructions",
    ),
    (
        "Llama 3.2 3B Instruct (Q4_K_M)",
        "bartowski/Llama-3.2-3B-Instruct-GGUF:Llama-3.2-3B-Instruct-Q4_K_M.gguf",
        2_019_377_696,
        "general chat, writing",
    ),
    (
        "Qwen2.5 3B Instruct (Q4_K_M)",
        "Qwen/Qwen2.5-3B-Instruct-GGUF:qwen2.5-3b-instruct-q4_k_m.gguf",
        2_104_932_768,
        "reasoning, code, tools",
    ),
    (
        "Qwen2.5 7B Instruct (Q4_K_M)",
        "bartowski/Qwen2.5-7B-Instruct-GGUF:Qwen2.5-7B-Instruct-Q4_K_M.gguf",
        4_683_073_952,
        "the strongest here; wants 8 GB of memory",
    ),
];

/// The memory a model of `bytes` wants with a 4K context: its weights, a cache and buffers
/// (a cautious rule of thumb: the file plus a quarter plus 512 MB).
pub fn wants(bytes: u64) -> u64 {
    bytes + bytes / 4 + 512 * 1024 * 1024
}

/// The catalogue, each entry marked whether it fits `memory` (total bytes; `None`: unknown,
/// all offered) and the largest that fits recommended.
pub fn entries(memory: Option<u64>) -> Vec<CatalogueModel> {
    let mut out: Vec<CatalogueModel> = ENTRIES
        .iter()
        .map(|(name, reference, size, good_for)| CatalogueModel {
            name: (*name).into(),
            reference: (*reference).into(),
            size: *size,
            memory: wants(*size),
            good_for: (*good_for).into(),
            fits: memory.is_none_or(|m| wants(*size) <= m / 2),
            recommended: false,
        })
        .collect();
    // The largest that fits in half the memory (the rest is the system's and the user's).
    if let Some(best) = out.iter_mut().rev().find(|e| e.fits) {
        best.recommended = true;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn what_fits_follows_the_memory_and_every_reference_is_a_hub_file() {
        const GB: u64 = 1024 * 1024 * 1024;
        for e in entries(None) {
            assert!(
                super::super::download::HubRef::parse(&e.reference).is_ok(),
                "{}",
                e.reference
            );
            assert!(e.fits);
        }
        let small = entries(Some(5 * GB / 2));
        assert!(small.iter().filter(|e| e.fits).count() == 1, "{small:?}");
        assert!(small[0].recommended);
        let eight = entries(Some(8 * GB));
        let picked: Vec<&str> = eight
            .iter()
            .filter(|e| e.recommended)
            .map(|e| e.name.as_str())
            .collect();
        assert_eq!(picked, ["Qwen2.5 3B Instruct (Q4_K_M)"]);
        let big = entries(Some(32 * GB));
        assert!(big.iter().all(|e| e.fits));
        assert!(big.last().unwrap().recommended);
        assert!(entries(Some(GB / 2))
            .iter()
            .all(|e| !e.fits && !e.recommended));
    }
}
