//! Attachments: files the user shows the model. Attaching reads and converts a file locally
//! (images re-encoded without their metadata, documents turned into text) and returns the
//! [`Part`] the message will carry; the composer sends it back in
//! [`SendOptions::attachments`](crate::SendOptions).

use crate::Part;
use serde::{Deserialize, Serialize};

/// An attached file, ready to send.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "specta", derive(specta::Type))]
pub struct Attachment {
    /// What the message will carry: [`Part::Image`] (bytes stored, by reference) or
    /// [`Part::File`] (the document's text).
    pub part: Part,
    /// Size of the file as it was on disk or on the clipboard.
    #[cfg_attr(feature = "specta", specta(type = u32))]
    pub original_size: u64,
    /// What attaching changed or found, in plain sentences ("Downscaled from 6000×4000.",
    /// "This PDF has no text layer…").
    pub notes: Vec<String>,
}
