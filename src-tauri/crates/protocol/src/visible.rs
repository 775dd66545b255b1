//! Making invisible characters visible. Model-written text shown for a decision (an approval
//! dialog, a terminal prompt, a saved grant) must not hide anything: control characters, bidi
//! embeddings/overrides/isolates, zero-width and other invisible characters, variation
//! selectors and Unicode tag characters are shown as `⟦U+XXXX⟧` instead of acting on the text
//! around them. This is the one table: the CLI calls [`mark_hidden`], and the window's marker
//! reads [`HIDDEN_RANGES`] from the generated bindings.
//!
//! Tab and line feed are not hidden; each medium shows them its own way.

/// Inclusive ranges of code points that are never shown as they are.
pub const HIDDEN_RANGES: &[(u32, u32)] = &[
    (0x0000, 0x0008),   // C0 controls (not tab, line feed)
    (0x000B, 0x001F),   // C0 controls incl. carriage return, escape
    (0x007F, 0x009F),   // delete, C1 controls
    (0x00AD, 0x00AD),   // soft hyphen
    (0x034F, 0x034F),   // combining grapheme joiner
    (0x061C, 0x061C),   // Arabic letter mark
    (0x115F, 0x1160),   // Hangul choseong/jungseong fillers
    (0x17B4, 0x17B5),   // Khmer inherent vowels
    (0x180B, 0x180F),   // Mongolian variation selectors, vowel separator
    (0x200B, 0x200F),   // zero-width space/joiners, LRM, RLM
    (0x2028, 0x202E),   // line/paragraph separators, bidi embeddings and overrides
    (0x2060, 0x206F),   // word joiner, invisible operators, bidi isolates, deprecated formats
    (0x3164, 0x3164),   // Hangul filler
    (0xFE00, 0xFE0F),   // variation selectors
    (0xFEFF, 0xFEFF),   // zero-width no-break space (BOM)
    (0xFFA0, 0xFFA0),   // halfwidth Hangul filler
    (0xFFF0, 0xFFFB),   // unassigned specials, interlinear annotation controls
    (0x1BCA0, 0x1BCA3), // shorthand format controls
    (0x1D173, 0x1D17A), // musical symbol formatting controls
    (0xE0000, 0xE007F), // tag characters (invisible "ASCII smuggling")
    (0xE0100, 0xE01EF), // variation selectors supplement
];

/// Whether `c` is one of [`HIDDEN_RANGES`].
pub fn is_hidden(c: char) -> bool {
    let c = c as u32;
    HIDDEN_RANGES.iter().any(|&(lo, hi)| (lo..=hi).contains(&c))
}

/// Whether `s` has a character [`mark_hidden`] would mark.
pub fn has_hidden(s: &str) -> bool {
    s.chars().any(is_hidden)
}

/// The marker shown in place of a hidden character.
pub fn marker(c: char) -> String {
    format!("⟦U+{:04X}⟧", c as u32)
}

/// `s` with every hidden character replaced by its [`marker`].
pub fn mark_hidden(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if is_hidden(c) {
            out.push_str(&marker(c));
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hidden_characters_table() {
        for (input, shown) in [
            ("plain text", "plain text"),
            ("tab\tand\nnewline", "tab\tand\nnewline"),
            (
                "rm -rf \u{202E}/ fdp\u{200B}\u{0007}",
                "rm -rf ⟦U+202E⟧/ fdp⟦U+200B⟧⟦U+0007⟧",
            ),
            ("a\rb", "a⟦U+000D⟧b"),
            ("\u{1b}[2Jclear", "⟦U+001B⟧[2Jclear"),
            ("\u{85}next line", "⟦U+0085⟧next line"),
            ("soft\u{AD}hyphen", "soft⟦U+00AD⟧hyphen"),
            ("\u{2066}isolate\u{2069}", "⟦U+2066⟧isolate⟦U+2069⟧"),
            ("\u{2028}", "⟦U+2028⟧"),
            ("\u{FEFF}bom", "⟦U+FEFF⟧bom"),
            ("x\u{FE0F}", "x⟦U+FE0F⟧"),
            ("\u{E0041}\u{E0042}tags", "⟦U+E0041⟧⟦U+E0042⟧tags"),
            ("\u{E0101}", "⟦U+E0101⟧"),
            ("\u{3164}", "⟦U+3164⟧"),
            ("\u{61C}", "⟦U+061C⟧"),
            ("\u{1D173}", "⟦U+1D173⟧"),
            ("مرحبا 👩‍👩‍👧", "مرحبا 👩⟦U+200D⟧👩⟦U+200D⟧👧"),
            ("é (e\u{301}) ü", "é (e\u{301}) ü"),
        ] {
            assert_eq!(mark_hidden(input), shown, "{input:?}");
            assert_eq!(has_hidden(input), input != shown, "{input:?}");
        }
    }

    #[test]
    fn ranges_are_sorted_and_disjoint() {
        for w in HIDDEN_RANGES.windows(2) {
            assert!(w[0].0 <= w[0].1 && w[0].1 < w[1].0, "{w:?}");
        }
    }
}
