//! Provider names: what a name may hold, and which names only Parley's built-in engine may
//! wear. The picker and each answer's details say where a model runs by its provider's name,
//! so no provider may be named like the built-in one — "On this computer (built in)" written
//! with look-alike letters (Cyrillic о, Greek ο), other spacing, hyphens, case or width, or
//! any name that claims to run on this computer or be built in: a remote server so named
//! would be taken for one that keeps the chats here.

use crate::error::CoreError;
use parley_protocol::BUILTIN_PROVIDER;
use unicode_normalization::UnicodeNormalization;

/// A name trimmed and checked: 1 to 64 characters, none of them a control or hidden character
/// (zero-width, bidi overrides: two names that look alike, or a name that reads backwards).
pub fn validate_name(name: &str) -> Result<String, CoreError> {
    let name = name.trim();
    let hidden = parley_protocol::visible::has_hidden(name);
    if name.is_empty() || name.chars().count() > 64 || name.chars().any(char::is_control) || hidden
    {
        return Err(CoreError::InvalidInput(
            "A provider name must be 1 to 64 characters without control or hidden characters."
                .into(),
        ));
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

/// Whether `name` reads as the built-in engine's: it says "this computer" or "built in" in
/// any spelling that looks alike.
pub fn claims_this_computer(name: &str) -> bool {
    let s = skeleton(name);
    ["thiscomputer", "builtin", "onthiscomputer"]
        .iter()
        .any(|claim| s.contains(&skeleton(claim)))
}

/// What a name looks like, for comparing: compatibility forms folded (full width, ligatures,
/// mathematical letters), lower case, letters that look like Latin ones made Latin (and
/// `i`/`l`/`1`, `o`/`0` made one), accents dropped, and only letters and digits kept.
pub fn skeleton(name: &str) -> String {
    name.nfkd()
        .flat_map(char::to_lowercase)
        .filter_map(|c| {
            let c = look_alike(c);
            c.is_alphanumeric().then_some(c)
        })
        .filter(char::is_ascii_alphanumeric)
        .collect()
}

/// The Latin letter `c` looks like (Cyrillic, Greek and a few symbols), or `c` itself.
fn look_alike(c: char) -> char {
    match c {
        'а' | 'α' => 'a',
        'в' | 'β' => 'b',
        'с' | 'ϲ' => 'c',
        'ԁ' => 'd',
        'е' | 'ё' | 'є' | 'ε' => 'e',
        'һ' => 'h',
        'і' | 'ї' | 'ι' | 'ı' | 'l' | '1' | '|' | 'ӏ' | 'ǀ' => 'i',
        'ј' | 'ϳ' => 'j',
        'к' | 'κ' => 'k',
        'м' | 'μ' => 'm',
        'п' | 'η' => 'n',
        'о' | 'ο' | 'σ' | '0' => 'o',
        'р' | 'ρ' => 'p',
        'ԛ' => 'q',
        'ѕ' | '5' => 's',
        'т' | 'τ' => 't',
        'υ' | 'ц' => 'u',
        'ν' => 'v',
        'ѡ' | 'ω' | 'ԝ' => 'w',
        'х' | 'χ' => 'x',
        'у' | 'γ' => 'y',
        _ => c,
    }
}

#[cfg(test)]
#[path = "names_tests.rs"]
mod tests;
