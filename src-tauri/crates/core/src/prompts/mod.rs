//! Prompts: saved texts with `{{variables}}`, filled in a small form and put in the composer
//! (`/` in the window; `parley prompts` keeps the library). Their own table (`store.rs`); the variables' rules in
//! `vars.rs`; import and export as JSON in `transfer.rs`.

mod store;
mod transfer;
pub mod vars;

pub use transfer::FILE_MAX;

#[cfg(test)]
mod tests;

use crate::error::CoreError;
use crate::shared::Shared;
use parley_protocol::{Prompt, PromptDraft, PromptImport};
use std::sync::Arc;

/// The longest name.
pub const NAME_MAX: usize = 80;
/// The longest text.
pub const BODY_MAX: usize = 64 * 1024;
/// The most prompts kept.
pub const COUNT_MAX: u32 = 2000;

/// Saved prompts.
#[derive(Clone)]
pub struct PromptService {
    shared: Arc<Shared>,
}

fn prompt((id, name, body, updated_at): store::Row) -> Prompt {
    Prompt {
        variables: vars::variables(&body).unwrap_or_default(),
        id,
        name,
        body,
        updated_at,
    }
}

impl PromptService {
    pub(crate) fn new(shared: Arc<Shared>) -> PromptService {
        PromptService { shared }
    }

    /// Every prompt, by name.
    pub async fn list(&self) -> Result<Vec<Prompt>, CoreError> {
        Ok(self
            .shared
            .store
            .list_prompts()
            .await?
            .into_iter()
            .map(prompt)
            .collect())
    }

    /// The prompt with this id or name.
    pub async fn get(&self, key: &str) -> Result<Prompt, CoreError> {
        self.shared
            .store
            .find_prompt(key.trim())
            .await?
            .map(prompt)
            .ok_or_else(|| {
                CoreError::NotFound(format!(
                    "No prompt is named “{}”.",
                    crate::clean::visible_line(key)
                ))
            })
    }

    /// Saves a prompt (a new one, or with its id a change) and returns it as saved.
    pub async fn save(&self, draft: PromptDraft) -> Result<Prompt, CoreError> {
        let (name, body) = checked(&draft)?;
        let now = crate::util::now_ms();
        let taken = self.shared.store.find_prompt(&name).await?;
        let id = match (&draft.id, taken) {
            (Some(id), Some(t)) if &t.0 != id && t.1.eq_ignore_ascii_case(&name) => {
                return Err(taken_error(&name))
            }
            (None, Some(t)) if t.1.eq_ignore_ascii_case(&name) => return Err(taken_error(&name)),
            (Some(id), _) => {
                if self
                    .shared
                    .store
                    .find_prompt(id)
                    .await?
                    .is_none_or(|p| &p.0 != id)
                {
                    return Err(CoreError::NotFound("That prompt was removed.".into()));
                }
                id.clone()
            }
            (None, _) => {
                if self.shared.store.count_prompts().await? >= COUNT_MAX {
                    return Err(CoreError::InvalidInput(format!(
                        "Parley keeps at most {COUNT_MAX} prompts: remove some first."
                    )));
                }
                crate::util::new_id()
            }
        };
        let row = (id, name, body, now);
        match self.shared.store.put_prompt(row.clone(), now).await {
            Ok(()) => Ok(prompt(row)),
            // Another save of the same name came first (between the check and the write).
            Err(e) if e.to_string().contains("UNIQUE constraint failed") => {
                Err(taken_error(&row.1))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Removes the prompt with this id or name.
    pub async fn remove(&self, key: &str) -> Result<(), CoreError> {
        let p = self.get(key).await?;
        self.shared.store.delete_prompt(&p.id).await?;
        Ok(())
    }

    /// The prompt's text with `values` filled in.
    pub async fn fill(&self, key: &str, values: &[(String, String)]) -> Result<String, CoreError> {
        let p = self.get(key).await?;
        vars::fill(&p.body, values).map_err(CoreError::InvalidInput)
    }

    /// Every prompt as JSON (`{"parley_prompts": 1, "prompts": [{"name", "body"}]}`).
    pub async fn export(&self) -> Result<String, CoreError> {
        Ok(transfer::to_json(&self.list().await?))
    }

    /// Adds the prompts of an export (or a list of `{name, body}`); a name here with the same
    /// text is already here, with another text it is skipped (named); an entry that is no
    /// prompt is named with why; nothing here changes.
    pub async fn import(&self, text: &str) -> Result<PromptImport, CoreError> {
        let entries = transfer::from_json(text).map_err(CoreError::InvalidInput)?;
        let mut report = PromptImport::default();
        let total = entries.len();
        for (i, entry) in entries.into_iter().enumerate() {
            let which = |why: &str| format!("Entry {}: {why}", i + 1);
            let draft = match entry.and_then(|d| checked(&d).map_err(|e| e.to_info().message)) {
                Ok((name, body)) => PromptDraft {
                    id: None,
                    name,
                    body,
                },
                Err(why) => {
                    report.refused.push(which(&why));
                    continue;
                }
            };
            if let Some(here) = self.shared.store.find_prompt(&draft.name).await? {
                if here.2 != draft.body {
                    report.skipped.push(draft.name);
                }
                continue;
            }
            match self.save(draft.clone()).await {
                Ok(_) => report.added += 1,
                Err(CoreError::InvalidInput(why)) if why.contains("at most") => {
                    report
                        .refused
                        .push(format!("{why} ({} entries not added)", total - i));
                    break;
                }
                Err(CoreError::InvalidInput(why)) => report.refused.push(which(&why)),
                Err(e) => return Err(e),
            }
        }
        Ok(report)
    }
}

fn taken_error(name: &str) -> CoreError {
    CoreError::InvalidInput(format!(
        "A prompt is already named “{name}”: choose another name."
    ))
}

/// The draft's name and text, checked: a name of 1 to [`NAME_MAX`] visible characters, a text
/// of at most [`BODY_MAX`] bytes whose `{{variables}}` are well formed.
fn checked(draft: &PromptDraft) -> Result<(String, String), CoreError> {
    let name = crate::clean::visible_line(&draft.name);
    if name.is_empty() || name.chars().count() > NAME_MAX {
        return Err(CoreError::InvalidInput(format!(
            "A prompt needs a name of 1 to {NAME_MAX} characters."
        )));
    }
    let body = draft.body.trim_end().to_owned();
    if body.trim().is_empty() {
        return Err(CoreError::InvalidInput("A prompt needs a text.".into()));
    }
    if body.len() > BODY_MAX {
        return Err(CoreError::InvalidInput(format!(
            "A prompt's text is at most {} KB.",
            BODY_MAX / 1024
        )));
    }
    vars::variables(&body).map_err(CoreError::InvalidInput)?;
    Ok((name, body))
}
