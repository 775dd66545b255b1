//! Attachments: the files a user attaches to a message (images, text and code files, PDFs).
//!
//! For now the topic is its pure part, [`ingest`]: reading a chosen or pasted file safely and
//! turning it into what a message carries (a re-encoded image without metadata, or a document's
//! text). It uses only the floor; storage, commands and the window build on it.

pub mod ingest;
