//! Keeping a request within the model's context window. A chat can outgrow any model; the
//! oldest turns are then left out of the request — never deleted from the chat — cutting only
//! at a user message, so a tool call is never sent without its result. The size of a message
//! is estimated from its bytes (about three per token, on the safe side of real tokenizers for
//! prose and code); a provider's "context too long" refusal corrects the estimate (the turn
//! then retries once with half as much).

use crate::providers::ToolSpec;
use parley_protocol::{Message, MessageId, Part, Role};

/// Rough tokens of a message: a few for its framing, then about one per three bytes.
pub(crate) fn estimate(m: &Message) -> u64 {
    let bytes: usize = m
        .parts
        .iter()
        .map(|p| match p {
            Part::Text { text } | Part::Reasoning { text, .. } => text.len(),
            Part::ToolCall {
                name, arguments, ..
            } => name.len() + arguments.len() + 16,
            Part::ToolResult { output, .. } => output.len() + 16,
            Part::File { name, text, .. } => name.len() + text.len() + 16,
            // Providers count an image by its pixels, not its bytes: about one token per 750
            // pixels, ~1,600 for a large one (they downscale it); unknown size: a large one.
            Part::Image { width, height, .. } => {
                let pixels = u64::from(*width) * u64::from(*height);
                let tokens = if pixels == 0 {
                    1600
                } else {
                    (pixels / 750).clamp(85, 1600)
                };
                3 * tokens as usize
            }
        })
        .sum();
    8 + bytes as u64 / 3
}

/// Rough tokens of a whole request's messages.
pub(crate) fn estimate_all(messages: &[Message]) -> u64 {
    messages.iter().map(estimate).sum()
}

/// What was left out of a request.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Trimmed {
    /// The first message sent.
    pub first: MessageId,
    /// How many earlier messages were left out.
    pub left_out: u32,
}

/// The longest tail of `messages` that starts at a user message and fits `budget` tokens. The
/// last user message and what follows it are always kept (a request needs a question), even
/// when they alone are over. Returns what was left out, if anything.
pub(crate) fn fit(messages: &mut Vec<Message>, budget: u64) -> Option<Trimmed> {
    let mut total = 0u64;
    let mut start = None;
    for (i, m) in messages.iter().enumerate().rev() {
        total += estimate(m);
        if m.role == Role::User {
            if total > budget && start.is_some() {
                break;
            }
            start = Some(i);
        }
    }
    let start = start.filter(|&s| s > 0)?;
    let first = messages[start].id.clone();
    messages.drain(..start);
    Some(Trimmed {
        first,
        left_out: start as u32,
    })
}

/// What a request carries beside its messages, and the window it must fit.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Frame<'a> {
    /// The model's window in tokens.
    pub window: u32,
    /// The model's largest answer, when known.
    pub output_limit: Option<u32>,
    /// The chat's own output cap (its settings), which wins.
    pub max_output: Option<u32>,
    /// The system prompt.
    pub system: Option<&'a str>,
    /// The tools offered.
    pub tools: &'a [ToolSpec],
}

/// Rough tokens of a system prompt.
fn system_tokens(system: Option<&str>) -> u64 {
    system.map_or(0, |s| s.len() as u64 / 3 + 8)
}

/// Rough tokens of the tools' definitions (names, descriptions, JSON schemas).
fn tools_tokens(tools: &[ToolSpec]) -> u64 {
    tools
        .iter()
        .map(|t| {
            let bytes = t.name.len() + t.description.len() + t.parameters.to_string().len();
            16 + bytes as u64 / 3
        })
        .sum()
}

impl Frame<'_> {
    /// Tokens kept free for the answer: the chat's cap, else a quarter of the window up to
    /// 8,192 (and no more than the model's largest answer).
    pub fn answer_room(&self) -> u64 {
        let window = u64::from(self.window);
        match self.max_output {
            Some(m) => u64::from(m),
            None => {
                let quarter = (window / 4).min(8192);
                self.output_limit
                    .map_or(quarter, |l| quarter.min(u64::from(l)))
            }
        }
    }

    /// Tokens of the system prompt and the tools' definitions.
    pub fn fixed(&self) -> u64 {
        system_tokens(self.system) + tools_tokens(self.tools)
    }

    /// The tokens the request's messages may take: the window less the answer's room, the
    /// system prompt, the tools and a tenth in reserve for what the estimate misses (framing).
    pub fn budget(&self) -> u64 {
        let window = u64::from(self.window);
        (window - window / 10).saturating_sub(self.answer_room() + self.fixed())
    }
}

/// A request's messages fitted to its frame.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Fitted {
    /// The budget the messages were fitted to.
    pub budget: u64,
    /// Tokens of the messages sent.
    pub sent: u64,
    /// What was left out, if anything.
    pub trimmed: Option<Trimmed>,
}

/// Fits a request's messages to the window: the one calculation the turn (which then sends
/// them) and the composer's gauge (which only reports it) share.
pub(crate) fn fit_request(messages: &mut Vec<Message>, frame: &Frame<'_>) -> Fitted {
    let budget = frame.budget();
    let trimmed = fit(messages, budget);
    Fitted {
        budget,
        sent: estimate_all(messages),
        trimmed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use parley_protocol::ChatId;

    fn msg(i: usize, role: Role, parts: Vec<Part>) -> Message {
        Message {
            id: MessageId(format!("m{i}")),
            chat_id: ChatId("s".into()),
            parent_id: None,
            role,
            parts,
            turn_id: None,
            provider: None,
            model: None,
            created_at: 0,
        }
    }
    fn text(s: &str) -> Vec<Part> {
        vec![Part::Text { text: s.into() }]
    }
    /// `turns` user/assistant pairs of 300 bytes each (~108 tokens per message).
    fn chat(turns: usize) -> Vec<Message> {
        let body = "x".repeat(300);
        (0..turns)
            .flat_map(|t| {
                [
                    msg(2 * t, Role::User, text(&body)),
                    msg(2 * t + 1, Role::Assistant, text(&body)),
                ]
            })
            .collect()
    }

    #[test]
    fn a_chat_that_fits_is_sent_whole() {
        let mut m = chat(10);
        assert_eq!(fit(&mut m, 1_000_000), None);
        assert_eq!(m.len(), 20);
    }

    #[test]
    fn the_oldest_turns_are_left_out_at_a_user_message() {
        for budget in [300u64, 500, 1000, 2000, 5000] {
            let mut m = chat(100);
            let t = fit(&mut m, budget).expect("trimmed");
            assert_eq!(m[0].role, Role::User, "budget {budget}");
            assert_eq!(m[0].id, t.first);
            assert_eq!(t.left_out as usize + m.len(), 200);
            assert!(estimate_all(&m) <= budget, "budget {budget}");
            // As much as fits: one more turn would be over.
            assert!(estimate_all(&m) + 2 * 108 > budget, "budget {budget}");
            assert_eq!(m.last().unwrap().id, MessageId("m199".into()));
        }
    }

    #[test]
    fn a_tool_round_is_never_split() {
        let call = || Part::ToolCall {
            call_id: "c".into(),
            name: "read_file".into(),
            arguments: "{}".into(),
            status: parley_protocol::ToolCallStatus::Completed,
        };
        let result = || Part::ToolResult {
            call_id: "c".into(),
            output: "y".repeat(3000),
            is_error: false,
        };
        let mut m = vec![
            msg(0, Role::User, text("first")),
            msg(1, Role::Assistant, vec![call(), result(), call(), result()]),
            msg(2, Role::User, text("second")),
            msg(3, Role::Assistant, vec![call(), result()]),
            msg(4, Role::User, text("third")),
        ];
        let t = fit(&mut m, 1500).unwrap();
        assert_eq!(t.first, MessageId("m2".into()));
        assert_eq!(m.len(), 3);
    }

    #[test]
    fn the_question_is_always_sent_even_when_alone_it_is_too_long() {
        let mut m = chat(3);
        m.push(msg(6, Role::User, text(&"z".repeat(30_000))));
        let t = fit(&mut m, 100).unwrap();
        assert_eq!(t.first, MessageId("m6".into()));
        assert_eq!(m.len(), 1);
        // Nothing before it: nothing to leave out.
        assert_eq!(fit(&mut m, 100), None);
    }

    #[test]
    fn an_image_counts_by_its_pixels_not_its_bytes() {
        let image = |width, height| {
            let part = Part::Image {
                mime: "image/png".into(),
                sha256: String::new(),
                name: String::new(),
                width,
                height,
                size: 5_000_000,
                data: Some("A".repeat(1000)),
            };
            estimate(&msg(0, Role::User, vec![part]))
        };
        for (w, h, tokens) in [
            (0, 0, 1600),
            (0, 500, 1600),
            (10, 10, 85),
            (1000, 750, 1000),
            (1568, 1568, 1600),
            (100_000, 100_000, 1600),
        ] {
            assert_eq!(image(w, h), 8 + tokens, "{w}x{h}");
        }
    }

    fn frame<'a>(window: u32, max_output: Option<u32>, system: Option<&'a str>) -> Frame<'a> {
        Frame {
            window,
            output_limit: None,
            max_output,
            system,
            tools: &[],
        }
    }

    #[test]
    fn the_budget_leaves_room_for_the_answer_the_system_prompt_and_the_tools() {
        assert_eq!(frame(8192, None, None).budget(), 8192 - 819 - 2048);
        assert_eq!(frame(128_000, None, None).budget(), 128_000 - 12_800 - 8192);
        let system = "s".repeat(300);
        assert_eq!(
            frame(4096, Some(1000), Some(&system)).budget(),
            4096 - 409 - 1000 - 108
        );
        assert_eq!(frame(1000, Some(5000), None).budget(), 0);
        // The model's largest answer caps the room kept for it; the chat's own cap wins.
        let mut f = frame(128_000, None, None);
        f.output_limit = Some(4096);
        assert_eq!(f.budget(), 128_000 - 12_800 - 4096);
        f.max_output = Some(20_000);
        assert_eq!(f.budget(), 128_000 - 12_800 - 20_000);
        // Tools' definitions are counted: name, description and schema.
        let tools = [ToolSpec {
            name: "read_file".into(),
            description: "d".repeat(291),
            parameters: serde_json::json!({}),
        }];
        let mut f = frame(8192, None, None);
        f.tools = &tools;
        assert_eq!(f.fixed(), 16 + 100); // (9 + 291 + 2) bytes / 3
        assert_eq!(f.budget(), 8192 - 819 - 2048 - f.fixed());
    }
}
