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
    (0x0000, 0x0008),    // C0 controls (not tab, line feed)
    (0x000B, 0x001F),    // C0 controls incl. carriage return, escape
    (0x007F, 0x00A0),    // delete, C1 controls, no-break space
    (0x00AD, 0x00AD),    // soft hyphen
    (0x034F, 0x034F),    // combining grapheme joiner
    (0x0600, 0x0605),    // Arabic number signs (format characters)
    (0x061C, 0x061C),    // Arabic letter mark
    (0x06DD, 0x06DD),    // Arabic end of ayah
    (0x070F, 0x070F),    // Syriac abbreviation mark
    (0x0890, 0x0891),    // Arabic pound/piastre marks above
    (0x08E2, 0x08E2),    // Arabic disputed end of ayah
    (0x115F, 0x1160),    // Hangul choseong/jungseong fillers
    (0x1680, 0x1680),    // Ogham space mark
    (0x17B4, 0x17B5),    // Khmer inherent vowels
    (0x180B, 0x180F),    // Mongolian variation selectors, vowel separator
    (0x2000, 0x200F),    // spaces of other widths, zero-width space/joiners, LRM, RLM
    (0x2028, 0x202F),    // line/paragraph separators, bidi embeddings and overrides, narrow NBSP
    (0x205F, 0x206F),    // medium space, word joiner, invisible operators, bidi isolates
    (0x2800, 0x2800),    // Braille pattern blank
    (0x3000, 0x3000),    // ideographic space
    (0x3164, 0x3164),    // Hangul filler
    (0xFE00, 0xFE0F),    // variation selectors
    (0xFEFF, 0xFEFF),    // zero-width no-break space (BOM)
    (0xFFA0, 0xFFA0),    // halfwidth Hangul filler
    (0xFFF0, 0xFFFB),    // unassigned specials, interlinear annotation controls
    (0x110BD, 0x110BD),  // Kaithi number sign
    (0x110CD, 0x110CD),  // Kaithi number sign above
    (0x13430, 0x1343F),  // Egyptian hieroglyph format controls
    (0x1BCA0, 0x1BCA3),  // shorthand format controls
    (0x1D173, 0x1D17A),  // musical symbol formatting controls
    (0xE0000, 0xE007F),  // tag characters (invisible "ASCII smuggling")
    (0xE0100, 0xE01EF),  // variation selectors supplement
    (0xF0000, 0x10FFFF), // private use planes 15 and 16 (shown as nothing by most fonts)
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

/// Whether a terminal would act on `c` instead of showing it: C0 controls other than tab and
/// line feed (escape starts every sequence: clipboard writes, titles, erasing, hidden text;
/// carriage return and backspace overwrite), delete, C1 controls (CSI, OSC, DCS as single
/// bytes) and bidi embeddings, overrides and isolates (they reorder what is shown).
pub fn is_terminal_control(c: char) -> bool {
    matches!(c as u32,
        0x00..=0x08 | 0x0B..=0x1F | 0x7F..=0x9F | 0x202A..=0x202E | 0x2066..=0x2069)
}

/// `s` safe to print to a terminal: every [`is_terminal_control`] character is shown as its
/// [`marker`]; everything else (line breaks, tabs, emoji, any script) is printed as it is.
pub fn terminal_safe(s: &str) -> std::borrow::Cow<'_, str> {
    if !s.chars().any(is_terminal_control) {
        return std::borrow::Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        if is_terminal_control(c) {
            out.push_str(&marker(c));
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
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
            // Every class the review named: tags, Hangul fillers, separators, NBSP,
            // variation selectors, the grapheme joiner — and look-alike spaces.
            ("\u{E0001}\u{E007F}", "⟦U+E0001⟧⟦U+E007F⟧"),
            ("\u{115F}\u{1160}\u{FFA0}", "⟦U+115F⟧⟦U+1160⟧⟦U+FFA0⟧"),
            ("a\u{2029}b", "a⟦U+2029⟧b"),
            ("rm\u{A0}-rf", "rm⟦U+00A0⟧-rf"),
            (
                "a\u{202F}b\u{2007}c\u{3000}d",
                "a⟦U+202F⟧b⟦U+2007⟧c⟦U+3000⟧d",
            ),
            ("\u{205F}\u{1680}\u{2800}", "⟦U+205F⟧⟦U+1680⟧⟦U+2800⟧"),
            ("x\u{FE0E}\u{E01EF}", "x⟦U+FE0E⟧⟦U+E01EF⟧"),
            ("a\u{34F}b", "a⟦U+034F⟧b"),
            ("\u{600}1\u{13430}", "⟦U+0600⟧1⟦U+13430⟧"),
            ("\u{F0000}\u{10FFFD}", "⟦U+F0000⟧⟦U+10FFFD⟧"),
        ] {
            assert_eq!(mark_hidden(input), shown, "{input:?}");
            assert_eq!(has_hidden(input), input != shown, "{input:?}");
        }
    }

    #[test]
    fn terminal_sequences_are_shown_not_obeyed() {
        let cases = [
            // Clipboard write (OSC 52), with BEL and with ST endings.
            (
                "\u{1b}]52;c;Y3VybCB4fHNo\u{7}",
                "⟦U+001B⟧]52;c;Y3VybCB4fHNo⟦U+0007⟧",
            ),
            ("\u{1b}]52;c;eA==\u{1b}\\", "⟦U+001B⟧]52;c;eA==⟦U+001B⟧\\"),
            // Window title, hyperlinks, erase line / screen, cursor moves, conceal.
            ("\u{1b}]0;pwned\u{7}", "⟦U+001B⟧]0;pwned⟦U+0007⟧"),
            (
                "\u{1b}]8;;http://evil\u{1b}\\x",
                "⟦U+001B⟧]8;;http://evil⟦U+001B⟧\\x",
            ),
            ("ok\u{1b}[2K\u{1b}[1A", "ok⟦U+001B⟧[2K⟦U+001B⟧[1A"),
            ("\u{1b}[8mhidden\u{1b}[0m", "⟦U+001B⟧[8mhidden⟦U+001B⟧[0m"),
            ("\u{1b}c", "⟦U+001B⟧c"),
            // Single-byte C1 forms: CSI, OSC, DCS.
            (
                "\u{9b}2J\u{9d}0;t\u{9c}\u{90}q",
                "⟦U+009B⟧2J⟦U+009D⟧0;t⟦U+009C⟧⟦U+0090⟧q",
            ),
            // Overwriting: carriage return, backspace; bidi reordering.
            ("safe\rrm -rf ~", "safe⟦U+000D⟧rm -rf ~"),
            ("ab\u{8}\u{8}cd", "ab⟦U+0008⟧⟦U+0008⟧cd"),
            ("\u{202E}txt.exe\u{2066}", "⟦U+202E⟧txt.exe⟦U+2066⟧"),
            ("\u{7f}", "⟦U+007F⟧"),
        ];
        for (input, shown) in cases {
            assert_eq!(terminal_safe(input), shown, "{input:?}");
        }
        for plain in ["line\nbreak\ttab", "日本語 مرحبا 👩‍👩‍👧", "a\u{A0}b", ""]
        {
            assert!(
                matches!(terminal_safe(plain), std::borrow::Cow::Borrowed(_)),
                "{plain:?}"
            );
        }
    }

    #[test]
    fn ranges_are_sorted_and_disjoint() {
        for w in HIDDEN_RANGES.windows(2) {
            assert!(w[0].0 <= w[0].1 && w[0].1 < w[1].0, "{w:?}");
        }
    }
}
