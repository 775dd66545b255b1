//! What goes wrong when a file is attached: one [`Problem`] per cause, told as one sentence that
//! names the file ([`IngestError`]'s `Display`).

use std::fmt;

/// Why a file was not attached. Each variant is one plain sentence (see `Display`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// The path no longer exists: moved or deleted after it was chosen.
    Missing,
    /// A folder, named pipe, socket or device: what it is, e.g. "a folder".
    NotAFile(&'static str),
    /// The operating system refused to read it (the error's own words).
    Unreadable(String),
    /// Its size or modification time changed while it was being read.
    Changed,
    /// The file is empty.
    Empty,
    /// Bigger than what Parley attaches of its kind.
    TooLarge {
        /// Its size in bytes.
        size: u64,
        /// The most Parley reads of this kind, in bytes.
        limit: u64,
        /// The kind, plural: "images", "PDFs", "text files".
        what: &'static str,
    },
    /// Its bytes say it is something else than its name claims, and not something Parley reads.
    WrongType {
        /// What the bytes are: "a ZIP archive".
        is: &'static str,
        /// What the name claims: "a PDF".
        claims: &'static str,
    },
    /// Named as a picture or a PDF, but its bytes have no known signature.
    NotWhatNamed {
        /// What the name claims: "a PNG image".
        claims: &'static str,
    },
    /// A kind of file Parley does not attach ("a ZIP archive", "a HEIC image").
    Unsupported(&'static str),
    /// Attached as text but looks like a binary file; says why.
    Binary(String),
    /// Damaged or cut short: what it was read as, and the reader's words.
    Damaged {
        /// "PNG image", "PDF".
        what: &'static str,
        /// The decoder's own words.
        detail: String,
    },
    /// An image whose header claims more pixels than Parley decodes.
    TooManyPixels {
        /// Claimed width.
        width: u32,
        /// Claimed height.
        height: u32,
        /// The most pixels Parley decodes on a side.
        side: u32,
    },
    /// A PDF built to exhaust the reader: what gave it away.
    PdfBomb(String),
    /// A password-protected PDF.
    Encrypted,
    /// A PDF none of whose pages has text (scanned pages are pictures).
    NoTextLayer,
    /// More text than Parley attaches from one file.
    TooMuchText {
        /// The most text Parley attaches, in bytes.
        limit: u64,
    },
    /// An image that stays bigger than a provider takes even after shrinking it.
    CannotShrink {
        /// The budget in bytes.
        limit: u64,
    },
    /// Reading took longer than the deadline.
    TimedOut {
        /// The deadline in seconds.
        seconds: u64,
    },
    /// The user cancelled.
    Cancelled,
}

/// A file that was not attached: its name and why. `Display` is one sentence naming the file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct IngestError {
    /// The file's name as the user sees it (not its whole path).
    pub name: String,
    /// What is wrong with it.
    pub problem: Problem,
}

impl fmt::Display for IngestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "“{}” {}.", self.name, self.problem)
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Missing => {
                f.write_str("no longer exists: it was moved or deleted after it was chosen")
            }
            Problem::NotAFile(what) => write!(f, "is {what}, not a file"),
            Problem::Unreadable(why) => write!(f, "cannot be read ({why})"),
            Problem::Changed => {
                f.write_str("changed while it was being read; attach it again once it is saved")
            }
            Problem::Empty => f.write_str("is empty: there is nothing to attach"),
            Problem::TooLarge { size, limit, what } => write!(
                f,
                "is {}; Parley attaches {what} of at most {}",
                human_size(*size),
                human_size(*limit)
            ),
            Problem::WrongType { is, claims } => write!(f, "is {is}, not {claims}"),
            Problem::NotWhatNamed { claims } => write!(
                f,
                "is named as {claims}, but its bytes are not one (nor any kind Parley knows)"
            ),
            Problem::Unsupported(is) => write!(
                f,
                "is {is}; Parley attaches images (PNG, JPEG, GIF, WebP, BMP, TIFF, ICO), PDFs \
                 and text files"
            ),
            Problem::Binary(why) => write!(f, "looks like a binary file, not text ({why})"),
            Problem::Damaged { what, detail } => {
                write!(f, "is a damaged or cut-short {what} ({detail})")
            }
            Problem::TooManyPixels {
                width,
                height,
                side,
            } => write!(
                f,
                "claims to be {width}×{height} pixels, more than Parley opens ({side} pixels a \
                 side): a decompression bomb?"
            ),
            Problem::PdfBomb(why) => write!(f, "was refused: {why} (a PDF bomb?)"),
            Problem::Encrypted => f.write_str(
                "is a password-protected PDF; remove the password (print it to a new PDF) and \
                 attach it again",
            ),
            Problem::NoTextLayer => f.write_str(
                "has no text layer (scanned?): there is no text to send, and Parley does not \
                 read text from pictures",
            ),
            Problem::TooMuchText { limit } => write!(
                f,
                "has more text than Parley attaches from one file ({}); attach a part of it",
                human_size(*limit)
            ),
            Problem::CannotShrink { limit } => write!(
                f,
                "could not be made smaller than {} without losing it",
                human_size(*limit)
            ),
            Problem::TimedOut { seconds } => {
                write!(f, "took longer than {seconds} s to read and was given up")
            }
            Problem::Cancelled => f.write_str("was not attached: cancelled"),
        }
    }
}

/// A size as people read it: "512 bytes", "900 KB", "3.8 MB", "2.0 GB" (1 KB = 1024 bytes).
pub fn human_size(bytes: u64) -> String {
    const KB: f64 = 1024.0;
    let b = bytes as f64;
    if b < KB {
        format!("{bytes} bytes")
    } else if b < KB * KB {
        format!("{:.0} KB", b / KB)
    } else if b < KB * KB * KB {
        let mb = b / (KB * KB);
        if mb < 10.0 {
            let figure = format!("{mb:.2}");
            format!("{} MB", figure.trim_end_matches('0').trim_end_matches('.'))
        } else {
            format!("{mb:.0} MB")
        }
    } else {
        format!("{:.1} GB", b / (KB * KB * KB))
    }
}
