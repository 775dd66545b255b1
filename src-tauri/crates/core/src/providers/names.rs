//! Provider names: what a name may hold, and which names only Parley's built-in engine may
//! wear. The picker and each answer's details say where a model runs by its provider's name,
//! so no provider may be named like the built-in one — "On this computer (built in)" written
//! with look-alike letters (Cyrillic, Greek, Armenian, small capitals, `rn` for `m`), other
//! spacing, hyphens, case or width, or any name whose words claim it runs on this computer or
//! is built in: a remote server so named would be taken for one that keeps the chats here.

use crate::error::CoreError;
use parley_protocol::BUILTIN_PROVIDER;
use unicode_normalization::char::is_combining_mark;
use unicode_normalization::UnicodeNormalization;

/// Words (as skeletons) that only the built-in engine's name may hold, in this order.
const CLAIMS: [&[&str]; 6] = [
    &["this", "computer"],
    &["thiscomputer"],
    &["this", "machine"],
    &["this", "device"],
    &["built", "in"],
    &["builtin"],
];

/// A name trimmed and checked: 1 to 64 characters, none of them a control or hidden character
/// (zero-width, bidi overrides: two names that look alike, or a name that reads backwards; an
/// emoji's own joiners and presentation selectors excepted), no word mixing Latin letters with
/// look-alike alphabets, and nothing claiming to be the built-in engine.
pub fn validate_name(name: &str) -> Result<String, CoreError> {
    let name = name.trim();
    if name.is_empty()
        || name.chars().count() > 64
        || name.chars().any(char::is_control)
        || hides(name)
    {
        return Err(CoreError::InvalidInput(
            "A provider name must be 1 to 64 characters without control or hidden characters."
                .into(),
        ));
    }
    if let Some(word) = name.split_whitespace().find(|w| mixes_alphabets(w)) {
        return Err(CoreError::InvalidInput(format!(
            "\"{word}\" mixes Latin letters with letters of another alphabet that look like them: \
             write the provider's name in one alphabet."
        )));
    }
    if claims_this_computer(name) {
        return Err(CoreError::InvalidInput(format!(
            "\"{BUILTIN_PROVIDER}\" is Parley's built-in engine, and only it may have a name that says \
             it runs on this computer or is built in: a provider so named could be taken for one \
             that keeps your chats here. Pick another name (the server's own name, say)."
        )));
    }
    Ok(name.to_owned())
}

/// Whether `name` holds a hidden character other than an emoji's joiner or presentation
/// selector (next to an emoji).
fn hides(name: &str) -> bool {
    let chars: Vec<char> = name.chars().collect();
    chars.iter().enumerate().any(|(i, &c)| {
        if !parley_protocol::visible::is_hidden(c) {
            return false;
        }
        let emoji_joint = matches!(c, '\u{200D}' | '\u{FE0E}' | '\u{FE0F}');
        let after_emoji = i > 0 && is_emoji(chars[i - 1]);
        !(emoji_joint && after_emoji)
    })
}

fn is_emoji(c: char) -> bool {
    matches!(c as u32, 0x1F000..=0x1FAFF | 0x2600..=0x27BF | 0x2B00..=0x2BFF)
}

/// Whether a word holds both Latin letters and letters of an alphabet with Latin look-alikes
/// (Greek, Cyrillic, Armenian).
fn mixes_alphabets(word: &str) -> bool {
    let latin = word.chars().any(|c| c.is_ascii_alphabetic());
    let other = word
        .chars()
        // Greek (0370), Cyrillic (0400, 0500) and Armenian (0530), one after another.
        .any(|c| matches!(c as u32, 0x0370..=0x058F));
    latin && other
}

/// Whether `name`'s words read as the built-in engine's: "this computer", "built in" and the
/// like, in any spelling that looks alike.
pub fn claims_this_computer(name: &str) -> bool {
    let words = skeleton_words(name);
    CLAIMS.iter().any(|claim| {
        words
            .windows(claim.len())
            .any(|w| w.iter().zip(claim.iter()).all(|(a, b)| a == &skeleton(b)))
    })
}

/// The name's words as skeletons (split at anything not a letter or digit).
fn skeleton_words(name: &str) -> Vec<String> {
    let folded: String = name
        .nfkd()
        .filter(|c| !is_combining_mark(*c))
        .map(look_alike)
        .collect();
    folded
        .split(|c: char| !c.is_alphanumeric())
        .map(skeleton)
        .filter(|w| !w.is_empty())
        .collect()
}

/// What a word looks like, for comparing: compatibility forms folded (full width, ligatures,
/// mathematical letters), letters that look like Latin ones made Latin (and `i`/`l`/`1`,
/// `o`/`0`, `rn`/`m` made one), lower case, accents dropped. Other letters are kept.
pub fn skeleton(word: &str) -> String {
    let s: String = word
        .nfkd()
        .map(look_alike)
        .flat_map(char::to_lowercase)
        .map(look_alike)
        .filter(|c| c.is_alphanumeric())
        .collect();
    s.replace("rn", "m")
}

/// The Latin letter `c` looks like (Cyrillic, Greek, Armenian, small capitals and a few
/// symbols, upper and lower case), or `c` itself.
fn look_alike(c: char) -> char {
    match c {
        'А' | 'Α' => 'A',
        'В' | 'Β' => 'B',
        'С' | 'Ϲ' => 'C',
        'Е' | 'Ε' => 'E',
        'Н' | 'Η' => 'H',
        'І' | 'Ι' | 'Ӏ' => 'I',
        'Ј' => 'J',
        'К' | 'Κ' => 'K',
        'М' | 'Μ' => 'M',
        'Ν' => 'N',
        'О' | 'Ο' | 'Օ' => 'O',
        'Р' | 'Ρ' => 'P',
        'Ѕ' => 'S',
        'Т' | 'Τ' => 'T',
        'Х' | 'Χ' => 'X',
        'У' | 'Υ' => 'Y',
        'Ζ' => 'Z',
        'а' | 'α' | 'ᴀ' => 'a',
        'в' | 'β' | 'ʙ' => 'b',
        'с' | 'ϲ' | 'ᴄ' => 'c',
        'ԁ' | 'ᴅ' => 'd',
        'е' | 'ё' | 'є' | 'ε' | 'ᴇ' => 'e',
        'ꜰ' => 'f',
        'ɢ' | 'ց' => 'g',
        'һ' | 'ʜ' | 'հ' | 'н' => 'h',
        'і' | 'ї' | 'ι' | 'ı' | 'l' | '1' | '|' | 'ӏ' | 'ǀ' | 'ɪ' | 'ʟ' => 'i',
        'ј' | 'ϳ' | 'ᴊ' => 'j',
        'к' | 'κ' | 'ᴋ' => 'k',
        'м' | 'μ' | 'ᴍ' => 'm',
        'п' | 'η' | 'ɴ' | 'ո' => 'n',
        'о' | 'ο' | 'σ' | '0' | 'ᴏ' | 'օ' => 'o',
        'р' | 'ρ' | 'ᴘ' => 'p',
        'ԛ' | 'զ' => 'q',
        'ʀ' => 'r',
        'ѕ' | '5' | 'ꜱ' => 's',
        'т' | 'τ' | 'ᴛ' => 't',
        'υ' | 'ц' | 'ᴜ' | 'ս' => 'u',
        'ν' | 'ᴠ' => 'v',
        'ѡ' | 'ω' | 'ԝ' | 'ᴡ' => 'w',
        'х' | 'χ' => 'x',
        'у' | 'γ' | 'ʏ' => 'y',
        'ᴢ' => 'z',
        _ => c,
    }
}

#[cfg(test)]
#[path = "names_tests.rs"]
mod tests;
