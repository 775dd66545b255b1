//! PDFs turned into text locally (lopdf), one "--- Page N ---" marker before each page's text.
//!
//! A PDF is hostile until read: the reader runs on its own thread, under `catch_unwind`, with a
//! deadline (`Limits::pdf_time`) and the caller's cancel flag watched every 50 ms; every stream
//! it expands (at load, and each page's content) is bounded by `Limits::pdf_stream`; a page
//! tree claiming more than `Limits::pdf_pages` pages is refused before it is walked; lopdf
//! itself stops at 100 levels of nesting. A reader given up on is told to stop at its next page
//! and left to end on its own (a thread cannot be killed), its memory bounded by the limits.
//!
//! Decided: a PDF with no text on any page is refused ([`Problem::NoTextLayer`]: there is
//! nothing to send); one with some pages without text is attached with a note naming them.
//! A PDF that needs a password is refused; one that opens with the empty password is read.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

use lopdf::{Document, LoadOptions, Object};

use super::error::Problem;
use super::limits::Limits;

/// A PDF's text with page markers, its page count and notes.
pub(super) struct PdfText {
    pub text: String,
    pub pages: u32,
    pub notes: Vec<String>,
}

const POLL: Duration = Duration::from_millis(50);
/// The reader thread's stack: deep but bounded recursion in the parser must not overflow.
const STACK: usize = 64 * 1024 * 1024;

/// Extracts the text of a PDF on a guarded thread.
pub(super) fn extract(
    bytes: Vec<u8>,
    limits: &Limits,
    cancel: &AtomicBool,
) -> Result<PdfText, Problem> {
    let stop = Arc::new(AtomicBool::new(false));
    let (tx, rx) = mpsc::channel();
    let worker_limits = limits.clone();
    let worker_stop = Arc::clone(&stop);
    std::thread::Builder::new()
        .name("pdf-text".into())
        .stack_size(STACK)
        .spawn(move || {
            let result = catch_unwind(AssertUnwindSafe(|| {
                read(&bytes, &worker_limits, &worker_stop)
            }));
            let result = result.unwrap_or_else(|_| {
                Err(Problem::Damaged {
                    what: "PDF",
                    detail: "the PDF reader failed on it".into(),
                })
            });
            // The receiver is gone when the caller gave up; nothing is left to tell.
            let _ = tx.send(result);
        })
        .map_err(|e| Problem::Unreadable(format!("no thread to read it: {e}")))?;
    wait(&rx, limits.pdf_time, cancel, &stop)
}

fn wait(
    rx: &mpsc::Receiver<Result<PdfText, Problem>>,
    deadline: Duration,
    cancel: &AtomicBool,
    stop: &AtomicBool,
) -> Result<PdfText, Problem> {
    let started = Instant::now();
    loop {
        let left = deadline.saturating_sub(started.elapsed());
        match rx.recv_timeout(left.min(POLL)) {
            Ok(result) => return result,
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                return Err(Problem::Damaged {
                    what: "PDF",
                    detail: "the PDF reader stopped".into(),
                })
            }
            Err(mpsc::RecvTimeoutError::Timeout) => {}
        }
        if cancel.load(Ordering::Relaxed) {
            stop.store(true, Ordering::Relaxed);
            return Err(Problem::Cancelled);
        }
        if started.elapsed() >= deadline {
            stop.store(true, Ordering::Relaxed);
            return Err(Problem::TimedOut {
                seconds: deadline.as_secs().max(1),
            });
        }
    }
}

/// The reader proper, on the guarded thread.
fn read(bytes: &[u8], limits: &Limits, stop: &AtomicBool) -> Result<PdfText, Problem> {
    let options = LoadOptions::with_max_decompressed_size(limits.pdf_stream as usize);
    let document = Document::load_mem_with_options(bytes, options).map_err(load_problem)?;
    if document.is_encrypted() {
        return Err(Problem::Encrypted);
    }
    let claimed = claimed_pages(&document);
    if claimed > i64::from(limits.pdf_pages) {
        return Err(Problem::PdfBomb(format!(
            "it claims {claimed} pages, and Parley reads at most {}",
            limits.pdf_pages
        )));
    }
    let pages = document.get_pages();
    if pages.len() > limits.pdf_pages as usize {
        return Err(Problem::PdfBomb(format!(
            "it has {} pages, and Parley reads at most {}",
            pages.len(),
            limits.pdf_pages
        )));
    }
    if pages.is_empty() {
        return Err(Problem::Damaged {
            what: "PDF",
            detail: "it has no pages".into(),
        });
    }
    pages_text(&document, pages.keys().copied(), limits, stop)
}

fn load_problem(error: lopdf::Error) -> Problem {
    match error {
        lopdf::Error::InvalidPassword | lopdf::Error::Decryption(_) => Problem::Encrypted,
        lopdf::Error::Decompress(lopdf::DecompressError::MemoryLimitExceeded { limit }) => {
            expands_beyond(limit as u64)
        }
        other => Problem::Damaged {
            what: "PDF",
            detail: other.to_string(),
        },
    }
}

fn expands_beyond(limit: u64) -> Problem {
    Problem::PdfBomb(format!(
        "a compressed part of it expands to more than {}",
        super::error::human_size(limit)
    ))
}

/// The page count the page tree's root states (`/Count`), 0 when unstated.
fn claimed_pages(document: &Document) -> i64 {
    document
        .catalog()
        .and_then(|catalog| catalog.get(b"Pages"))
        .and_then(|pages| match pages {
            Object::Reference(id) => document.get_dictionary(*id),
            other => other.as_dict(),
        })
        .and_then(|root| root.get(b"Count"))
        .and_then(Object::as_i64)
        .unwrap_or(0)
}

fn pages_text(
    document: &Document,
    numbers: impl Iterator<Item = u32>,
    limits: &Limits,
    stop: &AtomicBool,
) -> Result<PdfText, Problem> {
    let (mut text, mut empty, mut unreadable, mut count) =
        (String::new(), Vec::new(), Vec::new(), 0u32);
    for number in numbers {
        if stop.load(Ordering::Relaxed) {
            return Err(Problem::Cancelled);
        }
        count += 1;
        let page = match document.extract_text_with_limit(&[number], limits.pdf_stream as usize) {
            Ok(page) => tidy(&page),
            Err(lopdf::Error::Decompress(lopdf::DecompressError::MemoryLimitExceeded {
                limit,
            })) => return Err(expands_beyond(limit as u64)),
            Err(_) => {
                unreadable.push(number);
                String::new()
            }
        };
        if page.is_empty() && !unreadable.contains(&number) {
            empty.push(number);
        }
        text.push_str(&format!("--- Page {number} ---\n{page}\n\n"));
        if text.len() as u64 > limits.text_input {
            return Err(Problem::TooMuchText {
                limit: limits.text_input,
            });
        }
    }
    if empty.len() + unreadable.len() == count as usize {
        return Err(Problem::NoTextLayer);
    }
    let mut notes = Vec::new();
    if !empty.is_empty() {
        let (list, verb, pronoun) = pages_phrase(&empty);
        let has = if verb == "is" { "has" } else { "have" };
        notes.push(format!(
            "{list} {has} no text layer (scanned?): nothing of {pronoun} is sent."
        ));
    }
    if !unreadable.is_empty() {
        let (list, _, pronoun) = pages_phrase(&unreadable);
        notes.push(format!(
            "{list} could not be read: nothing of {pronoun} is sent."
        ));
    }
    Ok(PdfText {
        text: text.trim_end().to_owned() + "\n",
        pages: count,
        notes,
    })
}

/// "Page 3" / "Pages 3, 5", with "is"/"are" and "it"/"them".
fn pages_phrase(pages: &[u32]) -> (String, &'static str, &'static str) {
    let list: Vec<String> = pages.iter().map(u32::to_string).collect();
    if pages.len() == 1 {
        (format!("Page {}", list[0]), "is", "it")
    } else {
        (format!("Pages {}", list.join(", ")), "are", "them")
    }
}

/// A page's text with trailing spaces and blank-line runs removed.
fn tidy(page: &str) -> String {
    let mut out = String::with_capacity(page.len());
    let mut blank = 0;
    for line in page.replace("\r\n", "\n").replace('\r', "\n").lines() {
        let line = line.trim_end();
        if line.is_empty() {
            blank += 1;
            if blank > 1 || out.is_empty() {
                continue;
            }
        } else {
            blank = 0;
        }
        out.push_str(line);
        out.push('\n');
    }
    out.trim_end().to_owned()
}
