//! Images and the model asked: whether it takes them (its provider's cached model list says;
//! no request is made), a new message with images refused before anything is stored when it
//! does not, and the flag each request carries ([`ChatRequest::vision`]), by which the wire
//! formats send a note in place of each image of the history.
//!
//! [`ChatRequest::vision`]: crate::providers::ChatRequest::vision

use super::ChatService;
use crate::error::CoreError;
use parley_protocol::Part;

impl ChatService {
    /// Whether `model` of provider `provider` takes images, as the provider's cached model list
    /// says; `None` when the list or the model is not there or says nothing (then images are
    /// sent, and a provider that refuses them says so in its error).
    pub(super) async fn vision_of(&self, provider: &str, model: &str) -> Option<bool> {
        match self.providers.cached_models(provider).await {
            Ok(Some(list)) => list
                .models
                .iter()
                .find(|m| m.id == model)
                .and_then(|m| m.vision),
            Ok(None) => None,
            Err(e) => {
                tracing::warn!("the model list of {provider} could not be read: {e}");
                None
            }
        }
    }

    /// Refuses a new message that carries images when the model is known not to take them:
    /// nothing is stored and no request is sent. Unknown capability: allowed.
    pub(super) async fn refuse_unseen_images(
        &self,
        provider: &str,
        model: &str,
        attachments: &[Part],
    ) -> Result<(), CoreError> {
        let names: Vec<String> = attachments
            .iter()
            .filter_map(|p| match p {
                Part::Image { name, .. } if name.trim().is_empty() => Some("a pasted image".into()),
                Part::Image { name, .. } => Some(format!("\"{}\"", name.trim())),
                _ => None,
            })
            .collect();
        if names.is_empty() || self.vision_of(provider, model).await != Some(false) {
            return Ok(());
        }
        let (it, them) = match names.len() {
            1 => ("the image", "it"),
            _ => ("the images", "them"),
        };
        Err(CoreError::InvalidInput(format!(
            "Model \"{model}\" of provider \"{provider}\" does not take images, so the message was not sent. Remove {it} ({}) or pick a model that takes {them}.",
            names.join(", ")
        )))
    }
}
