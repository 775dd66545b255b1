use super::*;
use ArtifactKind::{Html, Mermaid, Svg};

#[test]
fn blocks_are_found_as_the_renderer_sees_fences() {
    let cases: &[(&str, &[(ArtifactKind, &str)])] = &[
        ("```html\n<p>hi</p>\n```", &[(Html, "<p>hi</p>")]),
        ("```HTML title=x\n<b>x</b>\n```", &[(Html, "<b>x</b>")]),
        ("~~~svg\n<svg></svg>\n~~~", &[(Svg, "<svg></svg>")]),
        (
            "```xml\n<?xml version=\"1.0\"?>\n<!-- c -->\n<svg/>\n```",
            &[(Svg, "<?xml version=\"1.0\"?>\n<!-- c -->\n<svg/>")],
        ),
        ("```xml\n<note/>\n```", &[]),
        (
            "```mermaid\ngraph TD; A-->B\n```",
            &[(Mermaid, "graph TD; A-->B")],
        ),
        ("```rust\nfn main() {}\n```", &[]),
        ("```\n<p>no language</p>\n```", &[]),
        ("```html\n\n   \n```", &[]),
        // A longer fence holds a shorter one; only a fence as long closes it.
        ("````html\n```\n<p/>\n````", &[(Html, "```\n<p/>")]),
        // A fence of the other character does not close it; the end of the text does.
        ("```html\n<p>\n~~~\nmore", &[(Html, "<p>\n~~~\nmore")]),
        // Four spaces in is indented code, not a fence.
        ("    ```html\n    <p/>\n    ```", &[]),
        ("   ```html\n<p/>\n   ```", &[(Html, "<p/>")]),
        // A closing fence with text after it is content.
        (
            "```html\n<p/>\n``` not yet\n```",
            &[(Html, "<p/>\n``` not yet")],
        ),
        // Inline code is no fence.
        ("use ```html``` here", &[]),
        (
            "text\n```svg\n<svg/>\n```\nand\n```html\n<i/>\n```\n```js\nx\n```",
            &[(Svg, "<svg/>"), (Html, "<i/>")],
        ),
    ];
    for (markdown, want) in cases {
        let got = blocks(markdown);
        let want: Vec<(ArtifactKind, String)> =
            want.iter().map(|(k, s)| (*k, (*s).to_owned())).collect();
        assert_eq!(got, want, "{markdown:?}");
    }
}

#[test]
fn every_page_is_served_boxed_in() {
    for rule in [
        "default-src 'none'",
        "connect-src 'none'",
        "form-action 'none'",
        "frame-src 'none'",
        "worker-src 'none'",
        "sandbox allow-scripts",
    ] {
        assert!(CSP.contains(rule), "{rule}");
    }
    assert!(!CSP.contains("allow-same-origin") && !CSP.contains("http"));
    let svg = page(Svg, "<svg id=x/>").unwrap();
    assert!(svg.starts_with("<!doctype html>") && svg.contains("<body><svg id=x/></body>"));
    assert_eq!(page(Html, "<p>hi</p>").unwrap(), "<p>hi</p>");
    assert!(page(Mermaid, "graph TD").is_err());
    let huge = "x".repeat(ARTIFACT_MAX_BYTES + 1);
    let e = page(Html, &huge).unwrap_err().to_string();
    assert!(e.contains("at most 2 MB"), "{e}");
    assert_eq!(file_name(Mermaid, 3), "artifact-3.mmd");
}
