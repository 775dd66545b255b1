//! Whether a model fits this computer before it is loaded: its weights (the file's tensors),
//! the KV cache for the chosen context (keys and values of every layer, f16, as llama-server
//! keeps them by default), and the engine's working buffers — against the memory free now. A
//! model that does not fit is refused with a sentence that says what would: a shorter context,
//! or that no context fits.

use super::gguf::GgufInfo;

/// Bytes in a MiB.
const MIB: u64 = 1024 * 1024;
/// The engine's buffers besides weights and cache: a floor, and a share of the weights.
const BUFFERS_FLOOR: u64 = 256 * MIB;
/// The share of the weights added for buffers, in percent.
const BUFFERS_PERCENT: u64 = 5;
/// Bytes of one cached key or value element (f16).
const CACHE_ELEMENT: u64 = 2;
/// The shortest context worth offering.
pub const CONTEXT_MIN: u64 = 512;

/// What loading a model with a context needs, in bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Estimate {
    pub weights: u64,
    pub kv_cache: u64,
    pub buffers: u64,
    pub total: u64,
}

/// The KV cache's bytes per token of context; `None` when the file does not say enough
/// (layers, heads and their width).
pub fn cache_per_token(info: &GgufInfo) -> Option<u64> {
    let layers = info.layers?;
    let kv_heads = info.kv_heads?;
    let key = match info.key_length {
        Some(k) => k,
        None => info.embedding? / info.heads?.max(1),
    };
    let value = info.value_length.unwrap_or(key);
    Some(
        layers
            .saturating_mul(kv_heads)
            .saturating_mul(key.saturating_add(value))
            .saturating_mul(CACHE_ELEMENT),
    )
}

/// What `info`'s model needs with `context` tokens. A file that does not describe its
/// attention is given the cache of a 4096-wide, 32-layer model per token (a cautious guess).
pub fn estimate(info: &GgufInfo, context: u64) -> Estimate {
    let per_token = cache_per_token(info).unwrap_or(32 * 4096 * 2 * CACHE_ELEMENT);
    let weights = info.file_size;
    let kv_cache = per_token.saturating_mul(context);
    let buffers = BUFFERS_FLOOR.max(weights / 100 * BUFFERS_PERCENT);
    Estimate {
        weights,
        kv_cache,
        buffers,
        total: weights.saturating_add(kv_cache).saturating_add(buffers),
    }
}

/// The longest context (a multiple of 256, at most the model's own) that fits in `free` bytes;
/// `None` when not even CONTEXT_MIN does.
pub fn longest_context(info: &GgufInfo, free: u64) -> Option<u64> {
    let base = estimate(info, 0).total;
    let per_token = estimate(info, 1).kv_cache.max(1);
    let room = free.checked_sub(base)?;
    let most = info.context_length.unwrap_or(u64::MAX);
    let fits = (room / per_token).min(most) / 256 * 256;
    (fits >= CONTEXT_MIN).then_some(fits)
}

/// Checks that `info`'s model with `context` fits in `free` bytes; else a sentence saying what
/// it needs and what would fit.
pub fn check(info: &GgufInfo, context: u64, free: u64) -> Result<Estimate, String> {
    let need = estimate(info, context);
    if need.total <= free {
        return Ok(need);
    }
    let what = format!(
        "This model with a context of {context} tokens needs about {} (weights {}, context {}, working memory {}), and {} is free",
        human(need.total),
        human(need.weights),
        human(need.kv_cache),
        human(need.buffers),
        human(free)
    );
    Err(match longest_context(info, free) {
        Some(fits) => format!("{what}. A context of {fits} tokens would fit: lower it in the model's settings, or close other programs."),
        None => format!("{what}. It does not fit even with the shortest context: choose a smaller model (fewer parameters, or a smaller quantisation)."),
    })
}

/// Bytes as a person reads them: "1.4 GB", "512 MB".
pub fn human(bytes: u64) -> String {
    let gib = bytes as f64 / (1024.0 * 1024.0 * 1024.0);
    if gib >= 1.0 {
        format!("{gib:.1} GB")
    } else {
        format!("{} MB", bytes.div_ceil(MIB))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// SmolLM2-135M's shape (30 layers, 9 heads, 3 KV heads, 576 wide, 64 per head).
    fn smol() -> GgufInfo {
        GgufInfo {
            architecture: "llama".into(),
            layers: Some(30),
            embedding: Some(576),
            heads: Some(9),
            kv_heads: Some(3),
            context_length: Some(8192),
            file_size: 90 * MIB,
            ..GgufInfo::default()
        }
    }

    /// An 8B model of Llama 3's shape (32 layers, 32 heads, 8 KV heads, 4096 wide), Q4: 4.9 GB.
    fn eight_b() -> GgufInfo {
        GgufInfo {
            layers: Some(32),
            embedding: Some(4096),
            heads: Some(32),
            kv_heads: Some(8),
            context_length: Some(131_072),
            file_size: 4_900 * MIB,
            ..smol()
        }
    }

    #[test]
    fn the_cache_per_token_follows_the_attention() {
        // 30 layers × 3 KV heads × (64 + 64) × 2 bytes.
        assert_eq!(cache_per_token(&smol()), Some(30 * 3 * 128 * 2));
        // 32 × 8 × (128 + 128) × 2 = 128 KB a token: Llama 3 8B's known figure.
        assert_eq!(cache_per_token(&eight_b()), Some(128 * 1024));
        let explicit = GgufInfo {
            key_length: Some(256),
            value_length: Some(128),
            ..eight_b()
        };
        assert_eq!(cache_per_token(&explicit), Some(32 * 8 * 384 * 2));
        let silent = GgufInfo {
            layers: None,
            ..smol()
        };
        assert_eq!(cache_per_token(&silent), None);
    }

    #[test]
    fn models_that_fit_and_do_not_say_what_would() {
        const GIB: u64 = 1024 * MIB;
        // What, the model, its context, the memory free, and what the check says.
        type Case = (&'static str, GgufInfo, u64, u64, Result<(), &'static str>);
        let table: Vec<Case> = vec![
            ("small model, small context", smol(), 2048, 2 * GIB, Ok(())),
            ("small model, its whole context", smol(), 8192, GIB, Ok(())),
            ("8B, 8K context, 16 GB", eight_b(), 8192, 16 * GIB, Ok(())),
            (
                "8B, its whole context, 16 GB",
                eight_b(),
                131_072,
                16 * GIB,
                Err("A context of 89600 tokens would fit"),
            ),
            (
                "8B on 4 GB",
                eight_b(),
                2048,
                4 * GIB,
                Err("does not fit even with the shortest context"),
            ),
            ("nothing free", smol(), 2048, 0, Err("and 0 MB is free")),
        ];
        for (what, info, context, free, want) in table {
            match (check(&info, context, free), want) {
                (Ok(e), Ok(())) => assert!(e.total <= free, "{what}"),
                (Err(said), Err(part)) => assert!(said.contains(part), "{what}: {said}"),
                (got, want) => panic!("{what}: {got:?}, wanted {want:?}"),
            }
        }
    }

    #[test]
    fn the_longest_context_never_passes_the_models_own() {
        let free = 64 * 1024 * MIB;
        assert_eq!(longest_context(&smol(), free), Some(8192));
        let open = GgufInfo {
            context_length: None,
            ..smol()
        };
        assert!(longest_context(&open, free).unwrap() > 8192);
        assert_eq!(human(1536 * MIB), "1.5 GB");
        assert_eq!(human(300 * MIB + 1), "301 MB");
    }
}
