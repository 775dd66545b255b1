use super::*;

/// Builds GGUF headers byte by byte.
#[derive(Default)]
struct Gguf(Vec<u8>);

impl Gguf {
    fn u32(mut self, v: u32) -> Self {
        self.0.extend(v.to_le_bytes());
        self
    }
    fn u64(mut self, v: u64) -> Self {
        self.0.extend(v.to_le_bytes());
        self
    }
    fn string(self, s: &str) -> Self {
        let mut me = self.u64(s.len() as u64);
        me.0.extend(s.as_bytes());
        me
    }
    fn kv_str(self, key: &str, value: &str) -> Self {
        self.string(key).u32(8).string(value)
    }
    fn kv_u32(self, key: &str, value: u32) -> Self {
        self.string(key).u32(4).u32(value)
    }
    fn start(tensors: u64, kvs: u64) -> Self {
        Gguf::default().u32(MAGIC).u32(3).u64(tensors).u64(kvs)
    }
    /// A tensor of `dims`.
    fn tensor(self, name: &str, dims: &[u64]) -> Self {
        let mut me = self.string(name).u32(dims.len() as u32);
        for d in dims {
            me = me.u64(*d);
        }
        me.u32(2).u64(0)
    }
    fn file(&self) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("m.gguf");
        std::fs::write(&path, &self.0).unwrap();
        (dir, path)
    }
}

/// A small sound model: llama, 2 tensors, every number Parley reads, a vocabulary array and a
/// chat template.
fn sound() -> Gguf {
    Gguf::start(2, 10)
        .kv_str("general.architecture", "llama")
        .kv_str("general.name", "Tiny")
        .kv_u32("general.file_type", 15)
        .kv_u32("llama.context_length", 8192)
        .kv_u32("llama.block_count", 30)
        .kv_u32("llama.embedding_length", 576)
        .kv_u32("llama.attention.head_count", 9)
        .kv_u32("llama.attention.head_count_kv", 3)
        .kv_str("tokenizer.chat_template", "{{ messages }}")
        .string("tokenizer.ggml.tokens")
        .u32(9)
        .u32(8)
        .u64(3)
        .string("a")
        .string("bc")
        .string("")
        .tensor("token_embd.weight", &[576, 49152])
        .tensor("blk.0.attn_q.weight", &[576, 576])
}

#[test]
fn a_sound_header_gives_what_the_manager_shows() {
    let (_d, path) = sound().file();
    let info = read(&path).unwrap();
    assert_eq!(info.version, 3);
    assert_eq!(info.architecture, "llama");
    assert_eq!(info.name.as_deref(), Some("Tiny"));
    assert_eq!(info.quantisation.as_deref(), Some("Q4_K_M"));
    assert_eq!(info.context_length, Some(8192));
    assert_eq!(info.layers, Some(30));
    assert_eq!((info.heads, info.kv_heads), (Some(9), Some(3)));
    assert_eq!(info.parameters, 576 * 49152 + 576 * 576);
    assert_eq!(info.chat_template.as_deref(), Some("{{ messages }}"));
    assert_eq!(info.file_size, std::fs::metadata(&path).unwrap().len());
}

#[test]
fn every_broken_or_foreign_file_says_what_is_wrong() {
    let full = sound().0;
    let cases: Vec<(&str, Vec<u8>, GgufError)> = vec![
        ("empty", vec![], GgufError::NotGguf),
        (
            "text",
            b"hello, I am not a model\n".to_vec(),
            GgufError::NotGguf,
        ),
        (
            "png",
            b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR".to_vec(),
            GgufError::NotGguf,
        ),
        (
            "magic only",
            Gguf::default().u32(MAGIC).0,
            GgufError::Truncated,
        ),
        (
            "version 1",
            Gguf::default().u32(MAGIC).u32(1).0,
            GgufError::Version(1),
        ),
        (
            "version 99",
            Gguf::default().u32(MAGIC).u32(99).0,
            GgufError::Version(99),
        ),
        ("cut in a key", full[..40].to_vec(), GgufError::Truncated),
        (
            "cut in the tensors",
            full[..full.len() - 6].to_vec(),
            GgufError::Truncated,
        ),
        (
            "a string longer than the file",
            Gguf::start(0, 1).u64(1 << 40).0,
            GgufError::Truncated,
        ),
        (
            "too many entries",
            Gguf::start(0, 1 << 40).0,
            GgufError::Damaged("0 tensors and 1099511627776 metadata entries".into()),
        ),
        (
            "a huge array",
            Gguf::start(0, 1).string("k").u32(9).u32(4).u64(1 << 40).0,
            GgufError::Damaged("an array of 1099511627776 elements".into()),
        ),
        (
            "an array of arrays",
            Gguf::start(0, 1).string("k").u32(9).u32(9).u64(1).0,
            GgufError::Damaged("an array of arrays".into()),
        ),
        (
            "an unknown type",
            Gguf::start(0, 1).string("k").u32(77).0,
            GgufError::Damaged("a value of unknown type 77".into()),
        ),
        (
            "a tensor of 5 dimensions",
            Gguf::start(1, 1)
                .kv_str("general.architecture", "llama")
                .tensor("t", &[1, 1, 1, 1, 1])
                .0,
            GgufError::Damaged("a tensor of 5 dimensions".into()),
        ),
        (
            "no architecture",
            Gguf::start(0, 1).kv_u32("llama.block_count", 3).0,
            GgufError::Damaged("it names no architecture".into()),
        ),
    ];
    for (what, bytes, want) in cases {
        let (_d, path) = Gguf(bytes).file();
        assert_eq!(read(&path), Err(want), "{what}");
    }
    assert!(matches!(
        read(Path::new("/nonexistent/m.gguf")),
        Err(GgufError::Io(_))
    ));
}

#[test]
fn long_strings_are_skipped_not_kept_and_huge_dimensions_do_not_overflow() {
    let template = "x".repeat((KEPT_MAX + 1) as usize);
    let name = "n".repeat(300);
    let g = Gguf::start(1, 3)
        .kv_str("general.architecture", "qwen2")
        .kv_str("general.name", &name)
        .kv_str("tokenizer.chat_template", &template)
        .tensor("t", &[u64::MAX, 4]);
    let (_d, path) = g.file();
    let info = read(&path).unwrap();
    assert_eq!(info.architecture, "qwen2");
    assert_eq!((info.name, info.chat_template), (None, None));
    assert_eq!(info.parameters, u64::MAX);
    assert_eq!(info.kv_heads, None);
}
