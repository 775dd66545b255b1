//! The images a tool returned (an MCP server's result): each checked and stored through the
//! attachments path like an image a user attaches (decoded, re-encoded without metadata, its
//! size bounded, stored once by its SHA-256 with a thumbnail), then kept as image parts right
//! after the call's result, where the window shows them on the call's card and every wire
//! format sends them with the result (`providers::tool_images`). An image that cannot be kept
//! is a line in the result's text saying why.

use super::Loop;
use crate::tools::tool::ToolImage;
use parley_protocol::Part;
use std::sync::atomic::AtomicBool;
use std::sync::Arc;

impl Loop {
    /// Stores `images` (Stop ends it); returns their parts, and notes in `output` each one
    /// that was refused. Bytes that are no image are refused before anything reads them; the
    /// stored ones are sent at once, so they go with their chat.
    pub(super) async fn keep_images(
        &mut self,
        images: Vec<ToolImage>,
        output: &mut String,
    ) -> Vec<Part> {
        let mut parts = Vec::new();
        let (attachments, _) = &self.images;
        let stop = Arc::new(AtomicBool::new(false));
        let watch = {
            let (stop, cancel) = (stop.clone(), self.calls_cancel.clone());
            tokio::spawn(async move {
                cancel.cancelled().await;
                stop.store(true, std::sync::atomic::Ordering::SeqCst);
            })
        };
        for (n, image) in images.into_iter().enumerate() {
            let name = format!("image {} of the result", n + 1);
            if !crate::attachments::ingest::is_image(&image.bytes) {
                note(output, n, "its bytes are not an image.");
                continue;
            }
            let why = match attachments
                .attach_bytes(&name, &image.mime, image.bytes, stop.clone())
                .await
            {
                Ok(kept) if matches!(kept.part, Part::Image { .. }) => {
                    parts.push(kept.part);
                    continue;
                }
                // Bytes said to be an image that read as a document are not shown as one.
                Ok(_) => "its bytes are not an image.".to_owned(),
                Err(e) => e.to_string(),
            };
            note(output, n, &why);
        }
        watch.abort();
        if let Err(e) = attachments.mark_sent(&parts).await {
            tracing::warn!("the images of a tool's result wait for the clean-up: {e}");
        }
        parts
    }
}

/// Says in `output` why image `n` (from 0) was not kept.
fn note(output: &mut String, n: usize, why: &str) {
    if !output.is_empty() {
        output.push('\n');
    }
    output.push_str(&format!(
        "[Image {} of this result was not kept: {why}]",
        n + 1
    ));
}
