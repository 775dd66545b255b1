//! PDFs: page markers, no text layer, bombs, encryption, deadlines and cancellation.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::test_fixtures::{self as fixtures, flate_stream, raw_pdf, Page};
use super::tests::{document, go, ingest, refused};
use crate::attachments::ingest::{from_bytes, Limits, Problem};

#[test]
fn a_pdf_s_pages_become_text_with_page_markers() {
    let pdf = fixtures::pdf(&[
        Page::Text(&["Quarterly report", "Revenue grew."]),
        Page::Text(&["Second page text"]),
        Page::Text(&["The end."]),
    ]);
    let doc = document(ingest("report.pdf", &pdf, &Limits::default()));
    assert_eq!(
        (doc.mime, doc.language, doc.pages),
        ("application/pdf", "text", Some(3))
    );
    assert!(doc.notes.is_empty(), "{:?}", doc.notes);
    let at = |needle: &str| {
        doc.text
            .find(needle)
            .unwrap_or_else(|| panic!("{needle:?} in {:?}", doc.text))
    };
    assert!(doc.text.starts_with("--- Page 1 ---\n"), "{:?}", doc.text);
    assert!(
        at("Quarterly report") < at("Revenue grew.") && at("Revenue grew.") < at("--- Page 2 ---")
    );
    assert!(
        at("--- Page 2 ---") < at("Second page text")
            && at("Second page text") < at("--- Page 3 ---")
    );
    assert!(at("--- Page 3 ---") < at("The end."));
    assert!(doc.text.ends_with("The end.\n"), "{:?}", doc.text);
}

#[test]
fn pages_without_text_are_named_and_a_pdf_without_any_is_refused() {
    let pdf = fixtures::pdf(&[Page::Text(&["Only this page has words"]), Page::Drawing]);
    let doc = document(ingest("mixed.pdf", &pdf, &Limits::default()));
    assert_eq!(
        doc.notes,
        ["Page 2 has no text layer (scanned?): nothing of it is sent."]
    );
    assert!(doc.text.contains("--- Page 2 ---"));

    let pdf = fixtures::pdf(&[
        Page::Drawing,
        Page::Text(&["x"]),
        Page::Drawing,
        Page::Drawing,
    ]);
    let doc = document(ingest("mostly.pdf", &pdf, &Limits::default()));
    assert_eq!(
        doc.notes,
        ["Pages 1, 3, 4 have no text layer (scanned?): nothing of them is sent."]
    );

    let scanned = fixtures::pdf(&[Page::Drawing, Page::Drawing]);
    let p = refused(
        "scan.pdf",
        ingest("scan.pdf", &scanned, &Limits::default()),
        "has no text layer (scanned?): there is no text to send",
    );
    assert_eq!(p, Problem::NoTextLayer);
}

fn catalog_and_pages(count: &str, extra: &str) -> Vec<Vec<u8>> {
    vec![
        format!("<< /Type /Catalog /Pages 2 0 R {extra} >>").into_bytes(),
        format!("<< /Type /Pages /Kids [3 0 R] /Count {count} >>").into_bytes(),
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 100 100] /Contents 4 0 R >>".to_vec(),
        b"<< /Length 0 >>\nstream\n\nendstream".to_vec(),
    ]
}

#[test]
fn pdf_bombs_and_damaged_pdfs_are_refused_quickly() {
    let deep = format!("/Deep {}1{}", "[".repeat(50_000), "]".repeat(50_000));
    let deep_dict = format!("/Deep {}1{}", "<< /A ".repeat(20_000), " >>".repeat(20_000));
    let mut bomb = catalog_and_pages("1", "");
    bomb[3] = flate_stream(&vec![b' '; 4 * 1024 * 1024]);
    let small_stream = Limits {
        pdf_stream: 1024 * 1024,
        ..Limits::default()
    };
    let five_pages = fixtures::pdf(&[
        Page::Text(&["a"]),
        Page::Text(&["b"]),
        Page::Text(&["c"]),
        Page::Text(&["d"]),
        Page::Text(&["e"]),
    ]);
    let pdf_ok = fixtures::pdf(&[Page::Text(&["whole"])]);
    let mut lying_count = catalog_and_pages("1", "");
    lying_count[1] = b"<< /Type /Pages /Kids [3 0 R 5 0 R 6 0 R] /Count 1 >>".to_vec();
    lying_count
        .push(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 9 9] /Contents 4 0 R >>".to_vec());
    lying_count
        .push(b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 9 9] /Contents 4 0 R >>".to_vec());
    let cases: [(&str, Vec<u8>, Limits, &str); 8] = [
        (
            "count.pdf",
            raw_pdf(&catalog_and_pages("100000000", ""), ""),
            Limits::default(),
            "it claims 100000000 pages, and Parley reads at most 2000 (a PDF bomb?)",
        ),
        (
            "nested.pdf",
            raw_pdf(&catalog_and_pages("1", &deep), ""),
            Limits::default(),
            "is a damaged or cut-short PDF",
        ),
        (
            "nested-dict.pdf",
            raw_pdf(&catalog_and_pages("1", &deep_dict), ""),
            Limits::default(),
            "is a damaged or cut-short PDF",
        ),
        (
            "flate.pdf",
            raw_pdf(&bomb, ""),
            small_stream,
            "a compressed part of it expands to more than 1 MB (a PDF bomb?)",
        ),
        (
            "long.pdf",
            five_pages,
            Limits {
                pdf_pages: 4,
                ..Limits::default()
            },
            "it claims 5 pages, and Parley reads at most 4",
        ),
        (
            "kids.pdf",
            raw_pdf(&lying_count, ""),
            Limits {
                pdf_pages: 2,
                ..Limits::default()
            },
            "it has 3 pages, and Parley reads at most 2 (a PDF bomb?)",
        ),
        (
            "cut.pdf",
            pdf_ok[..pdf_ok.len() / 3].to_vec(),
            Limits::default(),
            "is a damaged or cut-short PDF",
        ),
        (
            "garbage.pdf",
            b"%PDF-1.7\n\x00\x01 not a pdf at all".to_vec(),
            Limits::default(),
            "is a damaged or cut-short PDF",
        ),
    ];
    for (name, bytes, limits, phrase) in cases {
        let started = Instant::now();
        refused(name, ingest(name, &bytes, &limits), phrase);
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{name}: {:?}",
            started.elapsed()
        );
    }
}

#[test]
fn a_password_protected_pdf_is_refused() {
    let mut objects = catalog_and_pages("1", "");
    objects.push(
        format!(
            "<< /Filter /Standard /V 1 /R 2 /O <{}> /U <{}> /P -4 >>",
            "ab".repeat(32),
            "cd".repeat(32)
        )
        .into_bytes(),
    );
    let id = format!("/Encrypt 5 0 R /ID [<{0}> <{0}>]", "01".repeat(16));
    let p = refused(
        "secret.pdf",
        ingest("secret.pdf", &raw_pdf(&objects, &id), &Limits::default()),
        "is a password-protected PDF",
    );
    assert_eq!(p, Problem::Encrypted);
}

fn many_pages(n: usize) -> Vec<u8> {
    let lines = ["Some words on a page of a long document."; 20];
    let pages: Vec<Page<'_>> = (0..n).map(|_| Page::Text(&lines)).collect();
    fixtures::pdf(&pages)
}

#[test]
fn a_slow_pdf_is_given_up_at_its_deadline_and_cancelling_stops_it() {
    let pdf = many_pages(400);
    let limits = Limits {
        pdf_time: Duration::from_millis(1),
        ..Limits::default()
    };
    let started = Instant::now();
    let p = refused(
        "slow.pdf",
        from_bytes("slow.pdf", pdf.clone(), &limits, &go()),
        "took longer than 1 s to read and was given up",
    );
    assert_eq!(p, Problem::TimedOut { seconds: 1 });
    assert!(started.elapsed() < Duration::from_secs(2));

    // Cancelled while the reader is on its pages.
    let cancel = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&cancel);
    let canceller = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(20));
        flag.store(true, Ordering::Relaxed);
    });
    let started = Instant::now();
    let result = from_bytes("long.pdf", pdf, &Limits::default(), &cancel);
    canceller.join().expect("canceller");
    let p = refused("long.pdf", result, "was not attached: cancelled");
    assert_eq!(p, Problem::Cancelled);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn a_pdf_over_the_text_limit_is_refused() {
    let pdf = many_pages(10);
    let limits = Limits {
        text_input: 2_000,
        ..Limits::default()
    };
    refused(
        "book.pdf",
        ingest("book.pdf", &pdf, &limits),
        "has more text than Parley attaches from one file (2 KB)",
    );
}
