use super::*;
use serde_json::json;

fn everything() -> Value {
    json!({
        "type": "object",
        "properties": {
            "name": {"type": "string", "title": "Name", "minLength": 2, "maxLength": 5},
            "email": {"type": "string", "format": "email"},
            "home": {"type": "string", "format": "uri"},
            "born": {"type": "string", "format": "date"},
            "at": {"type": "string", "format": "date-time"},
            "n": {"type": "integer", "minimum": 1, "maximum": 100, "default": 42},
            "x": {"type": "number", "minimum": 0, "maximum": 1000},
            "ok": {"type": "boolean"},
            "friend": {"type": "string", "enum": ["Monica", "Ross"]},
            "hero": {"type": "string", "oneOf": [{"const": "h1", "title": "Superman"}]},
            "legacy": {"type": "string", "enum": ["a", "b"], "enumNames": ["Alpha", "Beta"]},
            "tools": {"type": "array", "minItems": 1, "maxItems": 2,
                      "items": {"type": "string", "enum": ["Guitar", "Piano", "Drums"]}},
            "fish": {"type": "array", "items": {"anyOf": [{"const": "f1", "title": "Tuna"}]}}
        },
        "required": ["name", "ok"]
    })
}

#[test]
fn every_kind_of_field_is_read_with_its_constraints() {
    let f = fields(&everything()).unwrap();
    let by = |n: &str| f.iter().find(|x| x.name == n).unwrap().clone();
    assert_eq!(f.len(), 13);
    assert!(by("name").required && by("ok").required && !by("n").required);
    assert_eq!(by("name").title, "Name");
    assert_eq!(
        by("email").title,
        "email",
        "the name stands in for a missing title"
    );
    assert_eq!(
        by("name").kind,
        Kind::Text {
            min_len: Some(2),
            max_len: Some(5),
            format: None
        }
    );
    assert_eq!(by("n").default, Some(json!(42)));
    assert!(matches!(
        by("n").kind,
        Kind::Number {
            integer: true,
            min: Some(_),
            max: Some(_)
        }
    ));
    assert_eq!(by("ok").kind, Kind::Boolean);
    let Kind::Choice { options, multi, .. } = by("legacy").kind else {
        panic!()
    };
    assert_eq!(options[1], ("b".into(), "Beta".into()));
    assert!(!multi);
    let Kind::Choice { options, .. } = by("hero").kind else {
        panic!()
    };
    assert_eq!(options, vec![("h1".to_owned(), "Superman".to_owned())]);
    assert!(matches!(
        by("tools").kind,
        Kind::Choice {
            multi: true,
            min_items: Some(1),
            max_items: Some(2),
            ..
        }
    ));
    assert!(matches!(by("fish").kind, Kind::Choice { multi: true, .. }));
}

#[test]
fn a_schema_parley_cannot_show_is_refused_not_guessed() {
    let many: Map<String, Value> = (0..=FIELDS_MAX)
        .map(|i| (format!("f{i}"), json!({"type": "string"})))
        .collect();
    for bad in [
        json!({}),
        json!({"properties": []}),
        json!({"properties": {"a": {"type": "object"}}}),
        json!({"properties": {"a": {}}}),
        json!({"properties": {"a": {"type": "string", "format": "ipv4"}}}),
        json!({"properties": {"a": {"type": "string", "enum": [1, 2]}}}),
        json!({"properties": {"a": {"type": "string", "enum": []}}}),
        json!({"properties": {"a": {"type": "array", "items": {"type": "string"}}}}),
        json!({"properties": {"a": {"type": "string", "oneOf": [{"title": "no const"}]}}}),
        json!({"properties": many}),
    ] {
        assert!(fields(&bad).is_err(), "{bad}");
    }
    let long = json!({"properties": {"a": {"type": "string", "title": "t".repeat(LABEL_MAX * 3)}}});
    assert_eq!(fields(&long).unwrap()[0].title.chars().count(), LABEL_MAX);
}

#[test]
fn answers_are_checked_and_typed() {
    let f = fields(&everything()).unwrap();
    let base = json!({"name": "Ann", "ok": false});
    let with = |k: &str, v: Value| {
        let mut m = base.as_object().unwrap().clone();
        m.insert(k.into(), v);
        m
    };
    let ok = check(&f, base.as_object().unwrap()).unwrap();
    assert_eq!(Value::Object(ok), json!({"name": "Ann", "ok": false}));
    for (k, v, want) in [
        ("n", json!("7"), json!(7)),
        ("n", json!(" 100 "), json!(100)),
        ("x", json!("3.25"), json!(3.25)),
        ("x", json!("0"), json!(0.0)),
        ("email", json!("a@b.io"), json!("a@b.io")),
        (
            "home",
            json!("https://x.example/p?q"),
            json!("https://x.example/p?q"),
        ),
        ("born", json!("1999-12-31"), json!("1999-12-31")),
        (
            "at",
            json!("2026-07-28T10:00:00Z"),
            json!("2026-07-28T10:00:00Z"),
        ),
        ("friend", json!("Ross"), json!("Ross")),
        (
            "tools",
            json!(["Piano", "Piano", "Drums"]),
            json!(["Piano", "Drums"]),
        ),
        ("ok", json!(true), json!(true)),
        ("ok", json!("true"), json!(true)),
        // Typed values pass too (an answer checked once is checked again when it is sent).
        ("n", json!(7), json!(7)),
        ("x", json!(2.5), json!(2.5)),
    ] {
        let got = check(&f, &with(k, v.clone())).unwrap_or_else(|e| panic!("{k}={v}: {e}"));
        assert_eq!(got[k], want, "{k}={v}");
    }
    // Empty optional fields are left out.
    let got = check(&f, &with("email", json!(""))).unwrap();
    assert!(!got.contains_key("email"));
    for (k, v) in [
        ("name", json!("A")),
        ("name", json!("Annabel")),
        ("name", json!("")),
        ("name", json!(null)),
        ("email", json!("not an email")),
        ("email", json!("a@b")),
        ("email", json!("a@@b.io")),
        ("home", json!("no scheme")),
        ("born", json!("1999-13-01")),
        ("born", json!("31/12/1999")),
        ("at", json!("2026-07-28 25:00")),
        ("n", json!("0")),
        ("n", json!("101")),
        ("n", json!("4.5")),
        ("n", json!("seven")),
        ("x", json!("NaN")),
        ("x", json!("inf")),
        ("x", json!("-1")),
        ("ok", json!("yes")),
        ("friend", json!("Joey")),
        ("friend", json!(["Ross"])),
        ("tools", json!(["Piano", "Guitar", "Drums"])),
        ("tools", json!(["Bass"])),
        ("tools", json!("Piano")),
        ("tools", json!([1])),
        ("n", json!({"a": 1})),
        ("n", json!(101)),
        ("name", json!(5)),
        ("unknown", json!("x")),
    ] {
        assert!(check(&f, &with(k, v.clone())).is_err(), "{k}={v} passed");
    }
    let missing = json!({"ok": true});
    let e = check(&f, missing.as_object().unwrap()).unwrap_err();
    assert!(e.contains("Name is required"), "{e}");
    let huge = with("email", json!(format!("{}@b.io", "a".repeat(TEXT_MAX))));
    assert!(check(&f, &huge).unwrap_err().contains("too long"));
}
