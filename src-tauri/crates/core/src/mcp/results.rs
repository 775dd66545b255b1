//! A tool's result as the model gets it: text as it is; an embedded text resource with its
//! address; a binary resource, an image or audio, and a resource link as a line that says what
//! it was (images are not yet passed on to vision models); structured content as JSON when the
//! result has no text. At most RESULT_MAX bytes, cut at a character with a line that says so.
//! A result the server marks as an error is an error result for the model.

use super::pool::RESULT_MAX;
use crate::tools::tool::ToolError;
use rmcp::model::{CallToolResult, ContentBlock, ResourceContents};

/// The text of `r` for the model (an error result when the server said the call failed).
pub fn text_of(r: &CallToolResult) -> Result<String, ToolError> {
    let mut parts: Vec<String> = r.content.iter().map(block_text).collect();
    if parts.is_empty() {
        if let Some(s) = &r.structured_content {
            parts.push(s.to_string());
        }
    }
    let mut text = parts.join("\n");
    if text.len() > RESULT_MAX {
        let total = text.len();
        let mut cut = RESULT_MAX;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        text.truncate(cut);
        text.push_str(&format!(
            "\n[The result was {total} bytes; the first {RESULT_MAX} are shown.]"
        ));
    }
    if r.is_error == Some(true) {
        return Err(ToolError::RespondToModel(if text.is_empty() {
            "The tool reported an error without saying why.".into()
        } else {
            text
        }));
    }
    Ok(text)
}

fn block_text(b: &ContentBlock) -> String {
    match b {
        ContentBlock::Text(t) => t.text.clone(),
        ContentBlock::Image(i) => format!(
            "[An image ({}, {} bytes of base64) was returned.]",
            i.mime_type,
            i.data.len()
        ),
        ContentBlock::Audio(a) => format!(
            "[Audio ({}, {} bytes of base64) was returned.]",
            a.mime_type,
            a.data.len()
        ),
        ContentBlock::Resource(r) => match &r.resource {
            ResourceContents::TextResourceContents { uri, text, .. } => {
                format!("[Resource {uri}]\n{text}")
            }
            ResourceContents::BlobResourceContents {
                uri,
                mime_type,
                blob,
                ..
            } => format!(
                "[Resource {uri} ({}, {} bytes of base64) was returned.]",
                mime_type.as_deref().unwrap_or("binary"),
                blob.len()
            ),
            _ => "[A kind of resource Parley does not know yet was returned.]".into(),
        },
        ContentBlock::ResourceLink(l) => format!("[Resource link: {} {}]", l.name, l.uri),
        #[allow(unreachable_patterns)]
        _ => "[A kind of content Parley does not know yet was returned.]".into(),
    }
}
