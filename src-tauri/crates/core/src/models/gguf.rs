//! Reading a GGUF file's header (the format llama.cpp loads): checked before the file is offered
//! as a model, and what the model manager shows and the memory estimate needs read from it —
//! architecture, name, parameter count (from the tensors' shapes), quantisation, context length,
//! layers and attention heads, the chat template, the file's size.
//!
//! The file is untrusted (a download, a file the user picked, another program's folder): every
//! count and length is bounded before anything is allocated or skipped, a header that ends
//! early or points past the file is "truncated", and anything that is not GGUF version 2 or 3
//! says what it is not. Arrays (a vocabulary has 150,000 strings) are skipped, not kept; only
//! the few keys Parley needs are kept, and their strings are bounded.

use std::io::{BufReader, Read, Seek};
use std::path::Path;

/// GGUF's magic, "GGUF" little-endian.
const MAGIC: u32 = 0x4655_4747;
/// The most metadata entries a header may have.
const KV_MAX: u64 = 1 << 16;
/// The most tensors a file may describe.
const TENSORS_MAX: u64 = 1 << 20;
/// The most elements one metadata array may have.
const ARRAY_MAX: u64 = 1 << 24;
/// The longest key, and the longest string read from any value or tensor name.
const KEY_MAX: u64 = 64 * 1024;
/// The longest string kept (a chat template); longer ones are skipped.
const KEPT_MAX: u64 = 1024 * 1024;
/// A tensor's most dimensions (llama.cpp's GGML_MAX_DIMS).
const DIMS_MAX: u32 = 4;

/// What a GGUF file says about the model in it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct GgufInfo {
    /// GGUF's version (2 or 3).
    pub version: u32,
    /// `general.architecture` ("llama", "qwen2", …).
    pub architecture: String,
    /// `general.name`, when it has one.
    pub name: Option<String>,
    /// The sum of the tensors' elements.
    pub parameters: u64,
    /// The quantisation, from `general.file_type` ("Q4_K_M", …), when it says.
    pub quantisation: Option<String>,
    /// `<arch>.context_length`: the longest context it was trained for.
    pub context_length: Option<u64>,
    /// `<arch>.block_count`: its layers.
    pub layers: Option<u64>,
    /// `<arch>.embedding_length`.
    pub embedding: Option<u64>,
    /// `<arch>.attention.head_count`.
    pub heads: Option<u64>,
    /// `<arch>.attention.head_count_kv` (grouped-query attention), else the heads.
    pub kv_heads: Option<u64>,
    /// `<arch>.attention.key_length`, when given (else embedding / heads).
    pub key_length: Option<u64>,
    /// `<arch>.attention.value_length`, when given.
    pub value_length: Option<u64>,
    /// `tokenizer.chat_template`, when it has one.
    pub chat_template: Option<String>,
    /// The file's size in bytes.
    pub file_size: u64,
}

/// Why a file is not a model Parley can use.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GgufError {
    #[error("it is not a GGUF model file (it does not start with \"GGUF\")")]
    NotGguf,
    #[error(
        "it is a GGUF file of version {0}, which Parley does not read (versions 2 and 3 only)"
    )]
    Version(u32),
    #[error("it ends before its header does: the file is cut short or damaged")]
    Truncated,
    #[error("its header is damaged: {0}")]
    Damaged(String),
    #[error("it could not be read: {0}")]
    Io(String),
}

/// A value's type (GGUF's numbering).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    U8,
    I8,
    U16,
    I16,
    U32,
    I32,
    F32,
    Bool,
    Str,
    Array,
    U64,
    I64,
    F64,
}

impl Kind {
    fn of(n: u32) -> Result<Kind, GgufError> {
        Ok(match n {
            0 => Kind::U8,
            1 => Kind::I8,
            2 => Kind::U16,
            3 => Kind::I16,
            4 => Kind::U32,
            5 => Kind::I32,
            6 => Kind::F32,
            7 => Kind::Bool,
            8 => Kind::Str,
            9 => Kind::Array,
            10 => Kind::U64,
            11 => Kind::I64,
            12 => Kind::F64,
            other => {
                return Err(GgufError::Damaged(format!(
                    "a value of unknown type {other}"
                )))
            }
        })
    }

    /// The size of a fixed-size value.
    fn size(self) -> Option<u64> {
        match self {
            Kind::U8 | Kind::I8 | Kind::Bool => Some(1),
            Kind::U16 | Kind::I16 => Some(2),
            Kind::U32 | Kind::I32 | Kind::F32 => Some(4),
            Kind::U64 | Kind::I64 | Kind::F64 => Some(8),
            Kind::Str | Kind::Array => None,
        }
    }
}

/// A value kept: a number or a string (others are skipped).
enum Value {
    Int(u64),
    Str(String),
    Skipped,
}

/// The header reader: bytes left in the file are checked before every skip.
struct Reader<R> {
    inner: BufReader<R>,
    at: u64,
    size: u64,
}

impl<R: Read + Seek> Reader<R> {
    fn bytes<const N: usize>(&mut self) -> Result<[u8; N], GgufError> {
        let mut b = [0u8; N];
        self.inner.read_exact(&mut b).map_err(|e| match e.kind() {
            std::io::ErrorKind::UnexpectedEof => GgufError::Truncated,
            _ => GgufError::Io(e.to_string()),
        })?;
        self.at += N as u64;
        Ok(b)
    }

    fn u32(&mut self) -> Result<u32, GgufError> {
        Ok(u32::from_le_bytes(self.bytes()?))
    }

    fn u64(&mut self) -> Result<u64, GgufError> {
        Ok(u64::from_le_bytes(self.bytes()?))
    }

    fn skip(&mut self, n: u64) -> Result<(), GgufError> {
        if n > self.size.saturating_sub(self.at) {
            return Err(GgufError::Truncated);
        }
        // Within the buffer when it can be: a header skips many small strings (a vocabulary),
        // and a plain seek would throw the buffer away each time.
        self.inner
            .seek_relative(n as i64)
            .map_err(|e| GgufError::Io(e.to_string()))?;
        self.at += n;
        Ok(())
    }

    /// A string of at most `max` bytes kept (`None`: longer, skipped), never over KEPT_MAX.
    fn string(&mut self, max: u64) -> Result<Option<String>, GgufError> {
        let len = self.u64()?;
        if len > self.size.saturating_sub(self.at) {
            return Err(GgufError::Truncated);
        }
        if len > max.min(KEPT_MAX) {
            self.skip(len)?;
            return Ok(None);
        }
        let mut buf = vec![0u8; len as usize];
        self.inner
            .read_exact(&mut buf)
            .map_err(|_| GgufError::Truncated)?;
        self.at += len;
        Ok(Some(String::from_utf8_lossy(&buf).into_owned()))
    }

    fn key(&mut self) -> Result<String, GgufError> {
        self.string(KEY_MAX)?
            .ok_or_else(|| GgufError::Damaged("a key longer than 64 KB".into()))
    }

    /// A value of `kind`: integers and strings kept (strings up to `keep` bytes).
    fn value(&mut self, kind: Kind, keep: u64) -> Result<Value, GgufError> {
        Ok(match kind {
            Kind::U8 | Kind::Bool => Value::Int(u64::from(self.bytes::<1>()?[0])),
            Kind::U16 => Value::Int(u64::from(u16::from_le_bytes(self.bytes()?))),
            Kind::U32 => Value::Int(u64::from(self.u32()?)),
            Kind::I32 => Value::Int(i32::from_le_bytes(self.bytes()?).max(0) as u64),
            Kind::U64 => Value::Int(self.u64()?),
            Kind::I64 => Value::Int(i64::from_le_bytes(self.bytes()?).max(0) as u64),
            Kind::Str => self.string(keep)?.map_or(Value::Skipped, Value::Str),
            Kind::Array => {
                self.skip_array()?;
                Value::Skipped
            }
            other => {
                self.skip(other.size().unwrap_or(0))?;
                Value::Skipped
            }
        })
    }

    /// Skips an array: fixed-size elements at once, strings one by one (bounded).
    fn skip_array(&mut self) -> Result<(), GgufError> {
        let kind = Kind::of(self.u32()?)?;
        let n = self.u64()?;
        if n > ARRAY_MAX {
            return Err(GgufError::Damaged(format!("an array of {n} elements")));
        }
        match kind {
            Kind::Str => {
                for _ in 0..n {
                    let len = self.u64()?;
                    self.skip(len)?;
                }
                Ok(())
            }
            Kind::Array => Err(GgufError::Damaged("an array of arrays".into())),
            fixed => self.skip(n.saturating_mul(fixed.size().unwrap_or(0))),
        }
    }
}

/// Opens `path` for reading only when it is a regular file (through symlinks): a FIFO, a
/// device or a folder is refused before it is opened (opening a FIFO would wait for a writer),
/// and checked again on the handle (opened without blocking).
pub fn open_regular(path: &Path) -> std::io::Result<std::fs::File> {
    let not_a_file = || std::io::Error::other("it is not a regular file");
    if !std::fs::metadata(path)?.is_file() {
        return Err(not_a_file());
    }
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(&mut options, libc::O_NONBLOCK);
    let file = options.open(path)?;
    if !file.metadata()?.is_file() {
        return Err(not_a_file());
    }
    Ok(file)
}

/// Reads the header of the GGUF file at `path`.
pub fn read(path: &Path) -> Result<GgufInfo, GgufError> {
    let file = open_regular(path).map_err(|e| GgufError::Io(e.to_string()))?;
    let size = file
        .metadata()
        .map_err(|e| GgufError::Io(e.to_string()))?
        .len();
    let mut r = Reader {
        inner: BufReader::with_capacity(64 * 1024, file),
        at: 0,
        size,
    };
    let mut info = header(&mut r)?;
    info.file_size = size;
    Ok(info)
}

fn header<R: Read + Seek>(r: &mut Reader<R>) -> Result<GgufInfo, GgufError> {
    if r.size < 4 || r.u32()? != MAGIC {
        return Err(GgufError::NotGguf);
    }
    let version = r.u32()?;
    if !(2..=3).contains(&version) {
        return Err(GgufError::Version(version));
    }
    let tensors = r.u64()?;
    let kvs = r.u64()?;
    if tensors > TENSORS_MAX || kvs > KV_MAX {
        return Err(GgufError::Damaged(format!(
            "{tensors} tensors and {kvs} metadata entries"
        )));
    }
    let mut info = GgufInfo {
        version,
        ..GgufInfo::default()
    };
    let mut numbers: Vec<(String, u64)> = Vec::new();
    for _ in 0..kvs {
        let key = r.key()?;
        let kind = Kind::of(r.u32()?)?;
        let keep = match key.as_str() {
            "tokenizer.chat_template" => KEPT_MAX,
            "general.architecture" | "general.name" => 256,
            _ => 0,
        };
        match r.value(kind, keep)? {
            Value::Int(n) => numbers.push((key, n)),
            Value::Str(s) if key == "general.architecture" => info.architecture = s,
            Value::Str(s) if key == "general.name" => info.name = Some(s),
            Value::Str(s) if key == "tokenizer.chat_template" => info.chat_template = Some(s),
            Value::Str(_) | Value::Skipped => {}
        }
    }
    info.parameters = parameters(r, tensors)?;
    fill_numbers(&mut info, &numbers);
    if info.architecture.is_empty() {
        return Err(GgufError::Damaged("it names no architecture".into()));
    }
    Ok(info)
}

/// The sum of the tensors' elements (each tensor: name, dimensions, type, offset).
fn parameters<R: Read + Seek>(r: &mut Reader<R>, tensors: u64) -> Result<u64, GgufError> {
    let mut total: u64 = 0;
    for _ in 0..tensors {
        r.string(0)?;
        let dims = r.u32()?;
        if dims == 0 || dims > DIMS_MAX {
            return Err(GgufError::Damaged(format!("a tensor of {dims} dimensions")));
        }
        let mut elements: u64 = 1;
        for _ in 0..dims {
            elements = elements.saturating_mul(r.u64()?);
        }
        r.u32()?; // its type
        r.u64()?; // its offset
        total = total.saturating_add(elements);
    }
    Ok(total)
}

/// The architecture's numbers, and the quantisation's name.
fn fill_numbers(info: &mut GgufInfo, numbers: &[(String, u64)]) {
    let arch = info.architecture.clone();
    let get = |suffix: &str| {
        let key = format!("{arch}.{suffix}");
        numbers.iter().find(|(k, _)| *k == key).map(|(_, v)| *v)
    };
    info.context_length = get("context_length");
    info.layers = get("block_count");
    info.embedding = get("embedding_length");
    info.heads = get("attention.head_count");
    info.kv_heads = get("attention.head_count_kv").or(info.heads);
    info.key_length = get("attention.key_length");
    info.value_length = get("attention.value_length");
    info.quantisation = numbers
        .iter()
        .find(|(k, _)| k == "general.file_type")
        .and_then(|(_, v)| file_type(*v))
        .map(str::to_owned);
}

/// llama.cpp's `llama_ftype` names (`general.file_type`).
fn file_type(n: u64) -> Option<&'static str> {
    Some(match n {
        0 => "F32",
        1 => "F16",
        2 => "Q4_0",
        3 => "Q4_1",
        7 => "Q8_0",
        8 => "Q5_0",
        9 => "Q5_1",
        10 => "Q2_K",
        11 => "Q3_K_S",
        12 => "Q3_K_M",
        13 => "Q3_K_L",
        14 => "Q4_K_S",
        15 => "Q4_K_M",
        16 => "Q5_K_S",
        17 => "Q5_K_M",
        18 => "Q6_K",
        19 => "IQ2_XXS",
        20 => "IQ2_XS",
        21 => "Q2_K_S",
        22 => "IQ3_XS",
        23 => "IQ3_XXS",
        24 => "IQ1_S",
        25 => "IQ4_NL",
        26 => "IQ3_S",
        27 => "IQ3_M",
        28 => "IQ2_S",
        29 => "IQ2_M",
        30 => "IQ4_XS",
        31 => "IQ1_M",
        32 => "BF16",
        36 => "TQ1_0",
        37 => "TQ2_0",
        38 => "MXFP4",
        _ => return None,
    })
}

#[cfg(test)]
#[path = "gguf_tests.rs"]
mod tests;
