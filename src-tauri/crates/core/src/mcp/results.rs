//! A tool's result as the model gets it: text as it is; an embedded text resource with its
//! address; an image (an image block, or a binary resource of an image type) as an image of
//! the result — stored by the engine through the attachments path and sent to vision models
//! with the result — marked in the text where it came; audio, other binary resources and
//! resource links as a line that says what they were; structured content as JSON when the
//! result has no text. Text at most RESULT_MAX bytes, cut at a character with a line that says
//! so; at most IMAGES_MAX images of at most IMAGE_MAX bytes of base64 each, the rest noted. A
//! result the server marks as an error is an error result for the model.

use super::pool::RESULT_MAX;
use crate::tools::tool::{ToolError, ToolImage, ToolOutput};
use rmcp::model::{CallToolResult, ContentBlock, ResourceContents};

/// The most images kept from one result.
pub const IMAGES_MAX: usize = 8;
/// The most base64 bytes of one image kept (the attachments path re-encodes and shrinks it);
/// under the 16 MB one whole message may have on stdio or the legacy transport.
pub const IMAGE_MAX: usize = 12 * 1024 * 1024;

/// What `r` gives the model (an error result when the server said the call failed).
pub fn output_of(r: &CallToolResult) -> Result<ToolOutput, ToolError> {
    let mut images = Vec::new();
    let mut parts: Vec<String> = r
        .content
        .iter()
        .map(|b| block_text(b, &mut images))
        .collect();
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
    Ok(ToolOutput { text, images })
}

/// An image of the result: kept (its place marked in the text) while there is room, else a
/// line that says why it was left out.
fn image(mime: &str, base64: &str, from: &str, images: &mut Vec<ToolImage>) -> String {
    let mime = shown_mime(mime);
    if images.len() >= IMAGES_MAX {
        return format!(
            "[An image{from} ({mime}) was left out: a result keeps at most {IMAGES_MAX} images.]"
        );
    }
    if base64.len() > IMAGE_MAX {
        return format!(
            "[An image{from} ({mime}, {} MB of base64) was left out: it is larger than {} MB.]",
            base64.len() / (1024 * 1024),
            IMAGE_MAX / (1024 * 1024)
        );
    }
    let Some(bytes) = crate::attachments::from_base64(base64) else {
        return format!("[An image{from} ({mime}) was left out: its base64 is not valid.]");
    };
    images.push(ToolImage {
        mime: mime.clone(),
        bytes,
    });
    format!("[Image {} of this result{from} ({mime}).]", images.len())
}

fn block_text(b: &ContentBlock, images: &mut Vec<ToolImage>) -> String {
    match b {
        ContentBlock::Text(t) => t.text.clone(),
        ContentBlock::Image(i) => image(&i.mime_type, &i.data, "", images),
        ContentBlock::Audio(a) => format!(
            "[Audio ({}, {} bytes of base64) was returned; Parley does not pass audio on.]",
            shown_mime(&a.mime_type),
            a.data.len()
        ),
        ContentBlock::Resource(r) => match &r.resource {
            ResourceContents::TextResourceContents { uri, text, .. } => {
                format!("[Resource {uri}]\n{text}")
            }
            ResourceContents::BlobResourceContents {
                uri,
                mime_type: Some(mime),
                blob,
                ..
            } if mime.starts_with("image/") => {
                image(mime, blob, &format!(" (resource {uri})"), images)
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

/// A MIME type as a line shows it: its plain characters only, at most 100 of them.
fn shown_mime(mime: &str) -> String {
    mime.chars()
        .filter(|c| c.is_ascii_alphanumeric() || "/+.-_;= ".contains(*c))
        .take(100)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rmcp::model::CallToolResult;

    const DOT: &str = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";

    #[test]
    fn images_are_kept_up_to_the_cap_each_within_its_size_the_rest_said() {
        let mut blocks = vec![ContentBlock::text("shots")];
        for _ in 0..(IMAGES_MAX + 2) {
            blocks.push(ContentBlock::image(DOT, "image/png"));
        }
        blocks.push(ContentBlock::image(
            "A".repeat(IMAGE_MAX + 4),
            "image/png\u{202E}x",
        ));
        blocks.push(ContentBlock::resource(
            ResourceContents::BlobResourceContents {
                uri: "mem://a.png".into(),
                mime_type: Some("image/png".into()),
                blob: DOT.into(),
                meta: None,
            },
        ));
        let out = output_of(&CallToolResult::success(blocks)).unwrap();
        assert_eq!(out.images.len(), IMAGES_MAX);
        assert!(out.images.iter().all(|i| i.bytes.starts_with(b"\x89PNG")));
        let lines: Vec<&str> = out.text.lines().collect();
        assert_eq!(lines[0], "shots");
        assert_eq!(lines[1], "[Image 1 of this result (image/png).]");
        assert_eq!(
            lines[IMAGES_MAX + 1],
            "[An image (image/png) was left out: a result keeps at most 8 images.]"
        );
        // The MIME type a server gives is shown plain (its hidden character dropped).
        assert!(
            out.text
                .contains("[An image (image/pngx) was left out: a result keeps at most 8 images.]"),
            "{}",
            out.text
        );
        assert!(out.text.ends_with(
            "[An image (resource mem://a.png) (image/png) was left out: a result keeps at most 8 images.]"
        ));
    }

    #[test]
    fn a_large_image_is_left_out_and_an_error_result_keeps_its_words() {
        let big = CallToolResult::success(vec![ContentBlock::image(
            "A".repeat(IMAGE_MAX + 4),
            "image/png",
        )]);
        let out = output_of(&big).unwrap();
        assert!(out.images.is_empty());
        assert!(
            out.text.contains("was left out: it is larger than 12 MB"),
            "{}",
            out.text
        );
        let mut failed = CallToolResult::success(vec![
            ContentBlock::text("could not draw"),
            ContentBlock::image(DOT, "image/png"),
        ]);
        failed.is_error = Some(true);
        let Err(ToolError::RespondToModel(why)) = output_of(&failed) else {
            panic!("an error result")
        };
        assert!(why.starts_with("could not draw\n[Image 1"), "{why}");
    }
}
