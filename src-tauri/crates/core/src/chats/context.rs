//! Keeping a request within the model's context window. A chat can outgrow any model; the
//! oldest turns are then left out of the request — never deleted from the chat — cutting only
//! at a user message, so a tool call is never sent without its result. The size of a message
//! is estimated from its bytes (about three per token, on the safe side of real tokenizers for
//! prose and code); a provider's "context too long" refusal corrects the estimate (the turn
//! then retries once with half as much).

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
            // Providers count an image by its pixels, not its bytes; ~1,600 tokens covers a
            // large one at the common tile sizes.
            Part::Image { .. } => 4800,
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

/// The tokens a request's messages may take in a window of `window` tokens, leaving room for
/// the answer (`max_output`, or a quarter of the window up to 8,192) and the system prompt.
pub(crate) fn budget(window: u32, max_output: Option<u32>, system: Option<&str>) -> u64 {
    let window = u64::from(window);
    let answer = max_output
        .map(u64::from)
        .unwrap_or_else(|| (window / 4).min(8192));
    let system = system.map_or(0, |s| s.len() as u64 / 3 + 8);
    // A tenth in reserve for what the estimate misses (tool definitions, framing).
    (window - window / 10).saturating_sub(answer + system)
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
    fn the_budget_leaves_room_for_the_answer_and_the_system_prompt() {
        assert_eq!(budget(8192, None, None), 8192 - 819 - 2048);
        assert_eq!(budget(128_000, None, None), 128_000 - 12_800 - 8192);
        assert_eq!(
            budget(4096, Some(1000), Some(&"s".repeat(300))),
            4096 - 409 - 1000 - 108
        );
        assert_eq!(budget(1000, Some(5000), None), 0);
    }
}
