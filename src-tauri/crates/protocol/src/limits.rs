//! The limits of a chat's generation settings, in one table: the core refuses values outside
//! them and the window's form checks the same table (exported into the UI bindings as
//! `PARAM_LIMITS`), so the two can never disagree.

use serde::Serialize;

/// The largest message Parley sends (and the longest answer to a question), in bytes.
pub const MAX_MESSAGE_BYTES: usize = 2 * 1024 * 1024;

/// The allowed range of one number, and the sentence that says so.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct NumberLimit {
    /// The smallest value.
    pub min: f64,
    /// Whether `min` itself is refused.
    pub min_exclusive: bool,
    /// The largest value (allowed).
    pub max: f64,
    /// Only whole numbers.
    pub integer: bool,
    /// What the user reads when a value is refused.
    pub message: &'static str,
}

impl NumberLimit {
    /// `None` when `v` is allowed, else the sentence.
    pub fn refuses(&self, v: f64) -> Option<String> {
        let low_ok = if self.min_exclusive {
            v > self.min
        } else {
            v >= self.min
        };
        let ok = v.is_finite() && low_ok && v <= self.max && (!self.integer || v.fract() == 0.0);
        (!ok).then(|| self.message.to_owned())
    }
}

/// The limits of [`crate::ChatParams`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ParamLimits {
    /// Sampling temperature.
    pub temperature: NumberLimit,
    /// Nucleus sampling.
    pub top_p: NumberLimit,
    /// The most tokens one answer may have.
    pub max_output_tokens: NumberLimit,
    /// The longest system prompt, in bytes.
    pub system_prompt_bytes: u32,
    /// What the user reads when the system prompt is longer.
    pub system_prompt_message: &'static str,
}

/// The one table.
pub const PARAM_LIMITS: ParamLimits = ParamLimits {
    temperature: NumberLimit {
        min: 0.0,
        min_exclusive: false,
        max: 2.0,
        integer: false,
        message: "Temperature must be a number from 0 to 2.",
    },
    top_p: NumberLimit {
        min: 0.0,
        min_exclusive: true,
        max: 1.0,
        integer: false,
        message: "Top-p must be a number greater than 0 and at most 1.",
    },
    max_output_tokens: NumberLimit {
        min: 1.0,
        min_exclusive: false,
        max: 1_000_000.0,
        integer: true,
        message: "Max output tokens must be a whole number from 1 to 1,000,000.",
    },
    system_prompt_bytes: 200_000,
    system_prompt_message: "The system prompt is too long (200,000 bytes at most).",
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits_table() {
        let l = PARAM_LIMITS;
        for (limit, v, ok) in [
            (l.temperature, 0.0, true),
            (l.temperature, 2.0, true),
            (l.temperature, 2.01, false),
            (l.temperature, -0.1, false),
            (l.temperature, f64::NAN, false),
            (l.top_p, 0.0, false),
            (l.top_p, 0.01, true),
            (l.top_p, 1.0, true),
            (l.top_p, 1.5, false),
            (l.max_output_tokens, 0.0, false),
            (l.max_output_tokens, 1.0, true),
            (l.max_output_tokens, 1.5, false),
            (l.max_output_tokens, 1_000_000.0, true),
            (l.max_output_tokens, 1_000_001.0, false),
            (l.max_output_tokens, f64::INFINITY, false),
        ] {
            assert_eq!(limit.refuses(v).is_none(), ok, "{v} against {limit:?}");
        }
    }
}
