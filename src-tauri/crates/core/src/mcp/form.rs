//! An elicitation form: the schema a server asks with, read into fields Parley can show (text,
//! number, integer, boolean, single and multiple choice, with their constraints), and the
//! person's answer checked against them and turned into the typed values the server gets.
//! The schema is untrusted: what Parley cannot show is refused, never guessed at; bounds keep a
//! server from asking for a thousand fields or a megabyte of labels.

use serde_json::{Map, Value};

/// The most fields one form may have.
pub const FIELDS_MAX: usize = 64;
/// The most options one choice may have.
pub const OPTIONS_MAX: usize = 256;
/// The most characters of any label, description or message shown.
pub const LABEL_MAX: usize = 2000;
/// The most characters of one text answer.
pub const TEXT_MAX: usize = 10_000;

/// One field of a form.
#[derive(Debug, Clone, PartialEq)]
pub struct Field {
    pub name: String,
    pub title: String,
    pub description: String,
    pub required: bool,
    pub kind: Kind,
    /// The server's default, as the person first sees it.
    pub default: Option<Value>,
}

/// What a field takes.
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    Text {
        min_len: Option<u64>,
        max_len: Option<u64>,
        /// `email`, `uri`, `date` or `date-time`.
        format: Option<String>,
    },
    Number {
        integer: bool,
        min: Option<f64>,
        max: Option<f64>,
    },
    Boolean,
    /// One value (`multi` false) or several (`min_items`..=`max_items`) of `options`, each a
    /// value and its label.
    Choice {
        options: Vec<(String, String)>,
        multi: bool,
        min_items: Option<u64>,
        max_items: Option<u64>,
    },
}

fn cut(s: &str) -> String {
    s.chars().take(LABEL_MAX).collect()
}

fn text_of(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(cut)
}

fn count_of(v: &Value, key: &str) -> Option<u64> {
    v.get(key).and_then(Value::as_u64)
}

/// The options of an enum schema: `enum` (with the legacy `enumNames` as labels), `oneOf` or
/// `anyOf` of `{const, title}`.
fn options_of(v: &Value) -> Option<Vec<(String, String)>> {
    let out: Vec<(String, String)> = if let Some(values) = v.get("enum").and_then(Value::as_array) {
        let names = v.get("enumNames").and_then(Value::as_array);
        values
            .iter()
            .enumerate()
            .map(|(i, e)| {
                let value = e.as_str()?.to_owned();
                let label = names
                    .and_then(|n| n.get(i))
                    .and_then(Value::as_str)
                    .map_or_else(|| cut(&value), cut);
                Some((value, label))
            })
            .collect::<Option<_>>()?
    } else {
        let list = v
            .get("oneOf")
            .or_else(|| v.get("anyOf"))
            .and_then(Value::as_array)?;
        list.iter()
            .map(|o| {
                let value = o.get("const")?.as_str()?.to_owned();
                let label = text_of(o, "title").unwrap_or_else(|| cut(&value));
                Some((value, label))
            })
            .collect::<Option<_>>()?
    };
    (!out.is_empty() && out.len() <= OPTIONS_MAX).then_some(out)
}

/// What property `v` takes, or why Parley cannot show it.
fn kind_of(name: &str, v: &Value) -> Result<Kind, String> {
    let ty = v.get("type").and_then(Value::as_str).unwrap_or("");
    let bad = |what: &str| format!("the field {name:?} {what}");
    Ok(match ty {
        "string" if v.get("enum").is_some() || v.get("oneOf").is_some() => Kind::Choice {
            options: options_of(v).ok_or_else(|| bad("has choices Parley cannot read"))?,
            multi: false,
            min_items: None,
            max_items: None,
        },
        "string" => Kind::Text {
            min_len: count_of(v, "minLength"),
            max_len: count_of(v, "maxLength"),
            format: match v.get("format").and_then(Value::as_str) {
                None => None,
                Some(f @ ("email" | "uri" | "date" | "date-time")) => Some(f.to_owned()),
                Some(other) => {
                    return Err(bad(&format!(
                        "has a format Parley does not know: {other:?}"
                    )))
                }
            },
        },
        "number" | "integer" => Kind::Number {
            integer: ty == "integer",
            min: v.get("minimum").and_then(Value::as_f64),
            max: v.get("maximum").and_then(Value::as_f64),
        },
        "boolean" => Kind::Boolean,
        "array" => Kind::Choice {
            options: v
                .get("items")
                .and_then(options_of)
                .ok_or_else(|| bad("has choices Parley cannot read"))?,
            multi: true,
            min_items: count_of(v, "minItems"),
            max_items: count_of(v, "maxItems"),
        },
        other => return Err(bad(&format!("has a type Parley cannot show: {other:?}"))),
    })
}

/// The fields of a requested schema (a JSON object schema of primitive properties), in the
/// server's order where it kept one, or why it cannot be shown.
pub fn fields(schema: &Value) -> Result<Vec<Field>, String> {
    let props = schema
        .get("properties")
        .and_then(Value::as_object)
        .ok_or("the form has no fields")?;
    if props.len() > FIELDS_MAX {
        return Err(format!(
            "the form has {} fields (at most {FIELDS_MAX} are shown)",
            props.len()
        ));
    }
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    props
        .iter()
        .map(|(name, v)| {
            let kind = kind_of(name, v)?;
            Ok(Field {
                name: cut(name),
                title: text_of(v, "title").unwrap_or_else(|| cut(name)),
                description: text_of(v, "description").unwrap_or_default(),
                required: required.contains(&name.as_str()),
                kind,
                default: v.get("default").cloned(),
            })
        })
        .collect()
}

/// Whether `s` reads as an email address (one `@`, something on each side, no spaces).
fn is_email(s: &str) -> bool {
    let mut parts = s.split('@');
    matches!((parts.next(), parts.next(), parts.next()), (Some(a), Some(b), None)
        if !a.is_empty() && b.contains('.') && !b.starts_with('.') && !b.ends_with('.'))
        && !s.chars().any(char::is_whitespace)
}

fn is_date(s: &str) -> bool {
    let re = regex::Regex::new(r"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$");
    re.is_ok_and(|re| re.is_match(s))
}

fn is_date_time(s: &str) -> bool {
    let re = regex::Regex::new(
        r"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])[Tt ]([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d+)?)?([Zz]|[+-]([01]\d|2[0-3]):[0-5]\d)?$",
    );
    re.is_ok_and(|re| re.is_match(s))
}

/// The typed value of a text answer for `field`, or what is wrong with it.
fn text_value(field: &Field, s: &str) -> Result<Value, String> {
    let n = s.chars().count() as u64;
    match &field.kind {
        Kind::Text {
            min_len,
            max_len,
            format,
        } => {
            if n > TEXT_MAX as u64 || max_len.is_some_and(|m| n > m) {
                return Err(format!(
                    "is too long (at most {} characters)",
                    max_len.unwrap_or(TEXT_MAX as u64)
                ));
            }
            if min_len.is_some_and(|m| n < m) {
                return Err(format!(
                    "needs at least {} characters",
                    min_len.unwrap_or(0)
                ));
            }
            let ok = match format.as_deref() {
                Some("email") => is_email(s),
                Some("uri") => url::Url::parse(s).is_ok(),
                Some("date") => is_date(s),
                Some("date-time") => is_date_time(s),
                _ => true,
            };
            if !ok {
                return Err(format!(
                    "is not a valid {}",
                    format.as_deref().unwrap_or("")
                ));
            }
            Ok(Value::String(s.to_owned()))
        }
        Kind::Number { integer, min, max } => {
            let x: f64 = s.trim().parse().map_err(|_| "is not a number".to_owned())?;
            if !x.is_finite() {
                return Err("is not a number".into());
            }
            if *integer && x.fract() != 0.0 {
                return Err("must be a whole number".into());
            }
            if min.is_some_and(|m| x < m) || max.is_some_and(|m| x > m) {
                return Err(format!("must be {}", range(*min, *max)));
            }
            Ok(if *integer && x.abs() < 9.0e15 {
                Value::from(x as i64)
            } else {
                Value::from(x)
            })
        }
        Kind::Boolean => match s {
            "true" => Ok(Value::Bool(true)),
            "false" => Ok(Value::Bool(false)),
            _ => Err("must be yes or no".into()),
        },
        Kind::Choice { options, multi, .. } if !*multi => {
            if options.iter().any(|(v, _)| v == s) {
                Ok(Value::String(s.to_owned()))
            } else {
                Err("must be one of the choices".into())
            }
        }
        Kind::Choice { .. } => Err("takes a list of choices".into()),
    }
}

fn range(min: Option<f64>, max: Option<f64>) -> String {
    match (min, max) {
        (Some(a), Some(b)) => format!("between {a} and {b}"),
        (Some(a), None) => format!("at least {a}"),
        (None, Some(b)) => format!("at most {b}"),
        (None, None) => "a number".into(),
    }
}

/// The typed value of a list answer for a multiple-choice `field`.
fn list_value(field: &Field, items: &[Value]) -> Result<Value, String> {
    let Kind::Choice {
        options,
        multi: true,
        min_items,
        max_items,
    } = &field.kind
    else {
        return Err("takes one value, not a list".into());
    };
    let mut out: Vec<Value> = Vec::new();
    for item in items {
        let s = item.as_str().ok_or("must be a list of choices")?;
        if !options.iter().any(|(v, _)| v == s) {
            return Err("must be among the choices".into());
        }
        if !out.iter().any(|o| o.as_str() == Some(s)) {
            out.push(Value::String(s.to_owned()));
        }
    }
    let n = out.len() as u64;
    if min_items.is_some_and(|m| n < m) {
        return Err(format!("needs at least {} choices", min_items.unwrap_or(0)));
    }
    if max_items.is_some_and(|m| n > m) {
        return Err(format!("takes at most {} choices", max_items.unwrap_or(0)));
    }
    Ok(Value::Array(out))
}

/// The person's `answer` (field name → text, `true`/`false`, or a list of choices) checked
/// against `fields`: the typed content for the server, or the first problem, naming its field.
/// An empty optional field is left out; a name that is not a field is refused.
pub fn check(fields: &[Field], answer: &Map<String, Value>) -> Result<Map<String, Value>, String> {
    if let Some(unknown) = answer
        .keys()
        .find(|k| !fields.iter().any(|f| &f.name == *k))
    {
        return Err(format!("{unknown:?} is not a field of this form."));
    }
    let mut out = Map::new();
    for f in fields {
        let value = match answer.get(&f.name) {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) if s.is_empty() => None,
            Some(Value::Array(items)) if items.is_empty() => None,
            Some(Value::String(s)) => Some(text_value(f, s)),
            Some(Value::Bool(b)) => Some(text_value(f, if *b { "true" } else { "false" })),
            Some(Value::Number(n)) if matches!(f.kind, Kind::Number { .. }) => {
                Some(text_value(f, &n.to_string()))
            }
            Some(Value::Array(items)) => Some(list_value(f, items)),
            Some(_) => Some(Err("has a value of the wrong kind".into())),
        };
        match value {
            None if f.required => return Err(format!("{} is required.", f.title)),
            None => {}
            Some(Ok(v)) => {
                out.insert(f.name.clone(), v);
            }
            Some(Err(why)) => return Err(format!("{} {why}.", f.title)),
        }
    }
    Ok(out)
}

#[cfg(test)]
#[path = "form_tests.rs"]
mod tests;
