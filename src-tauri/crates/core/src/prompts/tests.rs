use super::vars::{fill, variables};
use super::*;
use crate::test_kit::{core, rt};

#[test]
fn variables_are_found_once_each_in_order() {
    let table: &[(&str, &[&str])] = &[
        ("no variables", &[]),
        ("Hello {{name}}", &["name"]),
        ("{{ a }} and {{b}} and {{a}}", &["a", "b"]),
        (
            "{{topic}}: explain {{topic}} to a {{audience level}}",
            &["topic", "audience level"],
        ),
        ("JSON {\"a\": 1} and single { braces }", &[]),
        ("{{naïve_café-2.0}}", &["naïve_café-2.0"]),
        // A `}}` outside a variable is text: JSON, code, templates of other kinds.
        ("{\"a\": {\"b\": 1}} and {{x}}", &["x"]),
        ("日本語日本語日本}} 😀😀😀😀😀 }}", &[]),
        // `\{{` is a literal `{{`.
        ("Write \\{{name}} for a variable, {{real}}", &["real"]),
    ];
    for (body, want) in table {
        assert_eq!(variables(body).unwrap(), *want, "{body}");
    }
}

#[test]
fn unbalanced_or_strange_braces_get_a_sentence() {
    let table: &[(&str, &str)] = &[
        ("Hello {{name", "not closed"),
        ("Hello {{name}", "not closed"),
        ("{{a {{b}}", "not closed before the next one"),
        ("{{}}", "has no name"),
        ("{{   }}", "has no name"),
        ("{{a/b}}", "is not a variable name"),
        ("{{<script>}}", "is not a variable name"),
        (
            &"{{x}}".replace('x', &"x".repeat(41)),
            "is not a variable name",
        ),
        ("日本語日本語日本 {{名前", "not closed"),
        ("😀😀😀😀😀😀😀😀😀😀 {{x", "not closed"),
        ("{{a\u{202E}b}}", "⟦U+202E⟧"),
    ];
    for (body, words) in table {
        let e = variables(body).unwrap_err();
        assert!(e.contains(words), "{body}: {e}");
    }
}

#[test]
fn filling_puts_each_value_in_and_names_what_is_missing() {
    let values = vec![
        ("name".to_owned(), "Ada".to_owned()),
        ("x".to_owned(), "{{not a var}}".to_owned()),
    ];
    assert_eq!(
        fill("Hi {{name}}, {{ name }}!", &values).unwrap(),
        "Hi Ada, Ada!"
    );
    // A value is put in as it is, never read again for variables.
    assert_eq!(fill("{{x}}", &values).unwrap(), "{{not a var}}");
    assert_eq!(
        fill("\\{{name}} is {{name}}", &values).unwrap(),
        "{{name}} is Ada"
    );
    let e = fill("{{name}} {{who}} {{when}} {{who}}", &values).unwrap_err();
    assert_eq!(e, "No value for {{who}}, {{when}}.");
}

#[test]
fn prompts_are_saved_unique_by_name_exported_and_imported() {
    rt().block_on(async {
        let dir = tempfile::tempdir().unwrap();
        let core = core(dir.path()).await;
        let prompts = core.prompts();
        let draft = |name: &str, body: &str| PromptDraft {
            id: None,
            name: name.into(),
            body: body.into(),
        };
        let p = prompts
            .save(draft(
                "  Summarise\n",
                "Summarise {{text}} in {{n}} bullets",
            ))
            .await
            .unwrap();
        assert_eq!(p.name, "Summarise");
        assert_eq!(p.variables, ["text", "n"]);
        let e = prompts.save(draft("summarise", "other")).await.unwrap_err();
        assert!(e.to_string().contains("already named"), "{e}");
        let e = prompts
            .save(draft("Broken", "Hello {{name"))
            .await
            .unwrap_err();
        assert!(e.to_string().contains("not closed"), "{e}");
        assert!(prompts.save(draft("", "x")).await.is_err());
        assert!(prompts
            .save(draft("Big", &"x".repeat(BODY_MAX + 1)))
            .await
            .is_err());
        // Renamed by id.
        let renamed = prompts
            .save(PromptDraft {
                id: Some(p.id.clone()),
                name: "Summary".into(),
                body: p.body.clone(),
            })
            .await
            .unwrap();
        assert_eq!(renamed.id, p.id);
        assert_eq!(
            prompts
                .fill(
                    "summary",
                    &[("text".into(), "T".into()), ("n".into(), "3".into())]
                )
                .await
                .unwrap(),
            "Summarise T in 3 bullets"
        );

        let json = prompts.export().await.unwrap();
        let other = tempfile::tempdir().unwrap();
        let other = crate::test_kit::core(other.path()).await;
        other
            .prompts()
            .save(draft("Summary", "a different text"))
            .await
            .unwrap();
        let with_bad = json.replace(
            "\"prompts\": [",
            "\"prompts\": [{\"name\": \"Bad\", \"body\": \"{{\"}, {\"nope\": 1},",
        );
        let report = other.prompts().import(&with_bad).await.unwrap();
        assert_eq!(report.added, 0);
        assert_eq!(report.skipped, ["Summary"]);
        assert_eq!(report.refused.len(), 2, "{report:?}");
        assert!(
            report.refused[0].starts_with("Entry 1:") && report.refused[1].starts_with("Entry 2:"),
            "{report:?}"
        );
        assert_eq!(
            other.prompts().get("summary").await.unwrap().body,
            "a different text"
        );
        // Again: what is here with the same text is simply here.
        let again = prompts.import(&json).await.unwrap();
        assert_eq!((again.added, again.skipped.len()), (0, 0));
        assert!(other.prompts().import("not json").await.is_err());
        prompts.remove("Summary").await.unwrap();
        assert!(prompts.list().await.unwrap().is_empty());
    });
}
