//! Artifacts: the HTML, SVG and Mermaid blocks of a chat's answers (`blocks.rs` finds them, the
//! way the window's markdown renderer sees fences), and the page a preview is served as: the
//! block itself (HTML) or a bare page around it (SVG), always under [`CSP`] — scripts may run,
//! but nothing may be fetched, framed, submitted or sent anywhere, and the page is sandboxed to
//! an origin of its own. The window serves that page on its own scheme and shows it in a
//! sandboxed frame (src-tauri/src/artifact_scheme.rs); `parley artifacts` lists and saves them.

mod blocks;

#[cfg(test)]
mod tests;

pub use blocks::blocks;

use crate::chats::ChatService;
use crate::error::CoreError;
use parley_protocol::{ArtifactKind, ChatId, FoundArtifact, Part, Role, ARTIFACT_MAX_BYTES};

/// The policy every preview is served under: its own scripts and styles only, pictures and
/// fonts from `data:`, no network of any kind, no frames, forms, plugins or workers, and a
/// sandbox (scripts, nothing else) that gives it an origin of its own even if it were loaded
/// outside the frame.
pub const CSP: &str = "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data: blob:; font-src data:; media-src data: blob:; connect-src 'none'; frame-src 'none'; child-src 'none'; worker-src 'none'; object-src 'none'; form-action 'none'; base-uri 'none'; sandbox allow-scripts";

/// The page a preview shows: an HTML block as it is; an SVG picture in a bare page that fits
/// it to the frame. A Mermaid block is drawn by the window first and comes here as SVG.
pub fn page(kind: ArtifactKind, source: &str) -> Result<String, CoreError> {
    check_size(source)?;
    match kind {
        ArtifactKind::Html => Ok(source.to_owned()),
        ArtifactKind::Svg => Ok(format!(
            "<!doctype html><html><head><meta charset=\"utf-8\"><style>html,body{{margin:0;height:100%}}body{{display:flex;align-items:center;justify-content:center;background:#fff}}body>svg{{max-width:100%;max-height:100%;height:auto}}</style></head><body>{source}</body></html>"
        )),
        ArtifactKind::Mermaid => Err(CoreError::InvalidInput(
            "A Mermaid diagram is drawn by the window before it is previewed.".into(),
        )),
    }
}

/// Refuses an artifact over [`ARTIFACT_MAX_BYTES`].
pub fn check_size(source: &str) -> Result<(), CoreError> {
    if source.len() > ARTIFACT_MAX_BYTES {
        return Err(CoreError::InvalidInput(format!(
            "This block is {:.1} MB; Parley previews and saves blocks of at most {} MB.",
            source.len() as f64 / (1024.0 * 1024.0),
            ARTIFACT_MAX_BYTES / (1024 * 1024)
        )));
    }
    Ok(())
}

/// The file name an artifact is saved as by default.
pub fn file_name(kind: ArtifactKind, number: u32) -> String {
    let ext = match kind {
        ArtifactKind::Html => "html",
        ArtifactKind::Svg => "svg",
        ArtifactKind::Mermaid => "mmd",
    };
    format!("artifact-{number}.{ext}")
}

/// The artifacts of a chat.
#[derive(Clone)]
pub struct ArtifactService {
    chats: ChatService,
}

impl ArtifactService {
    pub(crate) fn new(chats: ChatService) -> ArtifactService {
        ArtifactService { chats }
    }

    /// Every previewable block of the answers on the chat's selected path, numbered in order.
    pub async fn list(&self, chat: &ChatId) -> Result<Vec<FoundArtifact>, CoreError> {
        let history = self
            .chats
            .branch(chat)
            .await?
            .ok_or_else(|| CoreError::NotFound(format!("No chat has the id {chat}.")))?;
        let mut found = Vec::new();
        for m in history
            .messages
            .iter()
            .filter(|m| m.role == Role::Assistant)
        {
            for part in &m.parts {
                let Part::Text { text } = part else { continue };
                for (kind, source) in blocks(text) {
                    found.push(FoundArtifact {
                        number: found.len() as u32 + 1,
                        message_id: m.id.clone(),
                        kind,
                        source,
                    });
                }
            }
        }
        Ok(found)
    }
}
