//! Cuts a command line into the simple commands a POSIX shell would run, for
//! [`super::code`]: after `;`, `&`, `|`, `&&`, `||` and new lines, inside subshells and groups,
//! and inside command and process substitutions (`$(…)`, backticks, `<(…)`), also within
//! double quotes. Redirections and their targets are left out. A word that holds an expansion
//! is marked `dynamic` (its value is only known when the shell runs it). The `-c` string of a
//! nested shell is not looked into here: a shell runs code whatever its string says.
//!
//! It never fails: what it cannot follow ends a word or a command, which can only make a
//! command look like more commands, never hide one.

/// One word of a simple command.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Word {
    /// The text with quotes removed (expansions kept as written).
    pub text: String,
    /// True when it holds an expansion (`$VAR`, `$(…)`, backticks, `${…}`, `$((…))`).
    pub dynamic: bool,
}

/// The most nested substitutions followed; deeper text is cut into words as it is.
const MAX_DEPTH: usize = 16;

/// The simple commands of `line`, each as its words.
pub fn segments(line: &str) -> Vec<Vec<Word>> {
    let mut out = Vec::new();
    parse(line, 0, &mut out);
    out
}

struct State<'a> {
    out: &'a mut Vec<Vec<Word>>,
    depth: usize,
    words: Vec<Word>,
    cur: Word,
    in_word: bool,
    /// The next word is the target of a redirection (dropped).
    redirect: bool,
}

impl State<'_> {
    fn end_word(&mut self) {
        if self.in_word {
            let w = std::mem::take(&mut self.cur);
            if self.redirect {
                self.redirect = false;
            } else {
                self.words.push(w);
            }
            self.in_word = false;
        }
    }

    fn end_command(&mut self) {
        self.end_word();
        self.redirect = false;
        if !self.words.is_empty() {
            self.out.push(std::mem::take(&mut self.words));
        }
    }

    fn push(&mut self, c: char) {
        self.in_word = true;
        self.cur.text.push(c);
    }

    /// A parameter or arithmetic expansion: a dynamic mark, and the commands of any
    /// substitution inside it (`${x:-$(cmd)}`); its plain text names no command.
    fn expansion(&mut self, inner: &str) {
        if inner.contains('$') || inner.contains('`') {
            self.substitution(inner);
        } else {
            self.in_word = true;
            self.cur.dynamic = true;
            self.cur.text.push('$');
        }
    }

    /// A substitution's text: its own commands, and a dynamic mark on the current word.
    fn substitution(&mut self, inner: &str) {
        if self.depth < MAX_DEPTH {
            parse(inner, self.depth + 1, self.out);
        } else {
            self.out.push(vec![Word {
                text: inner.to_owned(),
                dynamic: true,
            }]);
        }
        self.in_word = true;
        self.cur.dynamic = true;
        self.cur.text.push('$');
    }
}

/// The text up to the `)` that closes an already opened `(`, quotes respected; `i` moves past it.
fn until_close(chars: &[char], i: &mut usize) -> String {
    let mut depth = 1usize;
    let mut out = String::new();
    let mut quote: Option<char> = None;
    while *i < chars.len() {
        let c = chars[*i];
        *i += 1;
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some('"'), '\\') | (None, '\\') => {
                out.push(c);
                if let Some(n) = chars.get(*i) {
                    out.push(*n);
                    *i += 1;
                }
                continue;
            }
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '(') => depth += 1,
            (None, ')') => {
                depth -= 1;
                if depth == 0 {
                    return out;
                }
            }
            (None, _) => {}
        }
        out.push(c);
    }
    out
}

/// The text up to the next unescaped backtick; `i` moves past it.
fn until_backtick(chars: &[char], i: &mut usize) -> String {
    let mut out = String::new();
    while *i < chars.len() {
        let c = chars[*i];
        *i += 1;
        match c {
            '`' => return out,
            '\\' => {
                if let Some(n) = chars.get(*i) {
                    *i += 1;
                    if !matches!(n, '`' | '\\' | '$') {
                        out.push('\\');
                    }
                    out.push(*n);
                }
            }
            c => out.push(c),
        }
    }
    out
}

/// A `$…` expansion starting at `chars[*i]` (just after the `$`).
fn dollar(s: &mut State<'_>, chars: &[char], i: &mut usize) {
    match chars.get(*i) {
        Some('(') if chars.get(*i + 1) == Some(&'(') => {
            // Arithmetic: $(( … )) may hold substitutions too.
            *i += 2;
            let inner = until_close(chars, i);
            if chars.get(*i) == Some(&')') {
                *i += 1;
            }
            s.expansion(&inner);
        }
        Some('(') => {
            *i += 1;
            let inner = until_close(chars, i);
            s.substitution(&inner);
        }
        Some('{') => {
            *i += 1;
            let inner = until_close_brace(chars, i);
            s.expansion(&inner);
        }
        Some(c)
            if c.is_alphanumeric()
                || matches!(c, '_' | '@' | '*' | '#' | '?' | '-' | '$' | '!') =>
        {
            s.in_word = true;
            s.cur.dynamic = true;
            s.cur.text.push('$');
            if c.is_alphabetic() || *c == '_' {
                while chars
                    .get(*i)
                    .is_some_and(|c| c.is_alphanumeric() || *c == '_')
                {
                    s.cur.text.push(chars[*i]);
                    *i += 1;
                }
            } else {
                s.cur.text.push(*c);
                *i += 1;
            }
        }
        Some('\'') => {
            // $'…' (ANSI-C quoting): escapes the word only the shell decodes.
            *i += 1;
            s.in_word = true;
            s.cur.dynamic = true;
            while *i < chars.len() && chars[*i] != '\'' {
                if chars[*i] == '\\' {
                    *i += 1;
                }
                if let Some(c) = chars.get(*i) {
                    s.cur.text.push(*c);
                }
                *i += 1;
            }
            *i += 1;
        }
        _ => s.push('$'),
    }
}

/// `${…}`: its text up to the closing brace (it may hold substitutions).
fn until_close_brace(chars: &[char], i: &mut usize) -> String {
    let mut depth = 1usize;
    let mut out = String::new();
    while *i < chars.len() {
        let c = chars[*i];
        *i += 1;
        match c {
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return out;
                }
            }
            _ => {}
        }
        out.push(c);
    }
    out
}

fn parse(line: &str, depth: usize, out: &mut Vec<Vec<Word>>) {
    let chars: Vec<char> = line.chars().collect();
    let mut s = State {
        out,
        depth,
        words: Vec::new(),
        cur: Word::default(),
        in_word: false,
        redirect: false,
    };
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        i += 1;
        match c {
            '\'' => {
                s.in_word = true;
                while i < chars.len() && chars[i] != '\'' {
                    s.cur.text.push(chars[i]);
                    i += 1;
                }
                i += 1;
            }
            '"' => double_quoted(&mut s, &chars, &mut i),
            '\\' => {
                if let Some(n) = chars.get(i) {
                    i += 1;
                    if *n != '\n' {
                        s.push(*n);
                    }
                }
            }
            '$' => dollar(&mut s, &chars, &mut i),
            '`' => {
                let inner = until_backtick(&chars, &mut i);
                s.substitution(&inner);
            }
            '<' | '>' if chars.get(i) == Some(&'(') => {
                // Process substitution: its own commands.
                i += 1;
                let inner = until_close(&chars, &mut i);
                s.end_word();
                s.substitution(&inner);
                s.end_word();
            }
            '<' | '>' => {
                // A file descriptor number right before it belongs to the operator.
                if s.in_word && !s.cur.dynamic && s.cur.text.chars().all(|c| c.is_ascii_digit()) {
                    s.cur = Word::default();
                    s.in_word = false;
                }
                s.end_word();
                while chars
                    .get(i)
                    .is_some_and(|c| matches!(c, '<' | '>' | '&' | '|' | '-'))
                {
                    i += 1;
                }
                s.redirect = true;
            }
            ';' | '&' | '|' | '\n' | '\r' | '(' | ')' => s.end_command(),
            '#' if !s.in_word => {
                while i < chars.len() && chars[i] != '\n' {
                    i += 1;
                }
            }
            c if c.is_whitespace() => s.end_word(),
            c => s.push(c),
        }
    }
    s.end_command();
}

/// The inside of `"…"` starting after the opening quote; `i` moves past the closing one.
fn double_quoted(s: &mut State<'_>, chars: &[char], i: &mut usize) {
    s.in_word = true;
    while *i < chars.len() {
        let c = chars[*i];
        *i += 1;
        match c {
            '"' => return,
            '\\' => {
                if let Some(n) = chars.get(*i) {
                    *i += 1;
                    if !matches!(n, '"' | '\\' | '$' | '`' | '\n') {
                        s.cur.text.push('\\');
                    }
                    if *n != '\n' {
                        s.cur.text.push(*n);
                    }
                }
            }
            '$' => dollar(s, chars, i),
            '`' => {
                let inner = until_backtick(chars, i);
                s.substitution(&inner);
            }
            c => s.cur.text.push(c),
        }
    }
}
