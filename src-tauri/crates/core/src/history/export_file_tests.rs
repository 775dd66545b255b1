//! An export reaches the disk whole or not at all: whatever fails, what was at the path is as
//! it was and no temporary file is left beside it; what is written is the user's only and
//! comes back whole through an import.

use super::export_file::{write_whole, Existing, ExportChoice, ExportFormat};
use super::import_tests::{core, parley_many, rt, write};
use parley_protocol::ChatId;
use std::path::Path;

const OLD: &[u8] = b"an older, longer file that was there before";

/// The names in a folder, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// A write that fails halfway, after some bytes reached the temporary file.
fn fails_halfway(f: &mut std::fs::File) -> std::io::Result<()> {
    use std::io::Write;
    f.write_all(b"{\"half")?;
    Err(std::io::Error::other("the disk filled up"))
}

#[test]
fn a_new_export_is_written_whole_and_private() {
    for existing in [Existing::Keep, Existing::Replace] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("chats.json");
        write_whole(&path, existing, |f| std::io::Write::write_all(f, b"{}")).unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), b"{}", "{existing:?}");
        #[cfg(unix)]
        assert_eq!(mode(&path), 0o600, "{existing:?}");
        assert_eq!(
            names(dir.path()),
            ["chats.json"],
            "{existing:?}: no temporary file"
        );
    }
}

#[test]
fn replacing_an_existing_file_makes_it_whole_and_private() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("chats.json");
    std::fs::write(&path, OLD).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    write_whole(&path, Existing::Replace, |f| {
        std::io::Write::write_all(f, b"{}")
    })
    .unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), b"{}");
    #[cfg(unix)]
    assert_eq!(mode(&path), 0o600);
    assert_eq!(names(dir.path()), ["chats.json"]);
}

/// Every way a write can fail, in both modes: the file there before is untouched, nothing new
/// is left in the folder, and the error names the path.
#[test]
fn a_failed_export_leaves_what_was_there_and_no_temporary_file() {
    type Setup = fn(&Path) -> std::path::PathBuf;
    let cases: Vec<(&str, Setup, Existing, bool)> = vec![
        // (what, the path, mode, whether the write itself fails halfway)
        (
            "existing file, kept",
            |d| file(d, "a.json"),
            Existing::Keep,
            false,
        ),
        (
            "existing file, write fails",
            |d| file(d, "a.json"),
            Existing::Replace,
            true,
        ),
        (
            "new file, write fails",
            |d| d.join("a.json"),
            Existing::Keep,
            true,
        ),
        (
            "new file, write fails (replace)",
            |d| d.join("a.json"),
            Existing::Replace,
            true,
        ),
        ("a folder in the way", folder, Existing::Replace, false),
        ("a folder in the way, kept", folder, Existing::Keep, false),
        (
            "no such folder",
            |d| d.join("gone").join("a.json"),
            Existing::Replace,
            false,
        ),
        (
            "no such folder, kept",
            |d| d.join("gone").join("a.json"),
            Existing::Keep,
            false,
        ),
    ];
    for (what, setup, existing, halfway) in cases {
        let dir = tempfile::tempdir().unwrap();
        let path = setup(dir.path());
        let before = names(dir.path());
        let was = std::fs::read(&path).ok();
        let result = if halfway {
            write_whole(&path, existing, fails_halfway)
        } else {
            write_whole(&path, existing, |f| std::io::Write::write_all(f, b"{}"))
        };
        let e = result.expect_err(what).to_string();
        assert!(e.contains(&path.display().to_string()), "{what}: {e}");
        assert_eq!(names(dir.path()), before, "{what}: the folder is as it was");
        assert_eq!(
            std::fs::read(&path).ok(),
            was,
            "{what}: the file is as it was"
        );
        if path.is_dir() {
            assert_eq!(names(&path), ["inside"], "{what}");
        }
    }
}

fn file(dir: &Path, name: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, OLD).unwrap();
    p
}

fn folder(dir: &Path) -> std::path::PathBuf {
    let p = dir.join("a.json");
    std::fs::create_dir(&p).unwrap();
    std::fs::write(p.join("inside"), OLD).unwrap();
    p
}

/// Refusing an existing file says "could not create" (the CLI's `--output` names a new file).
#[test]
fn keeping_an_existing_file_is_a_refusal_to_create() {
    let dir = tempfile::tempdir().unwrap();
    let path = file(dir.path(), "a.md");
    let e = write_whole(&path, Existing::Keep, |f| {
        std::io::Write::write_all(f, b"x")
    })
    .unwrap_err()
    .to_string();
    assert!(e.starts_with("could not create"), "{e}");
}

/// While a new export is written, its name holds nothing (not an empty or half file that a kill
/// would leave behind), however long the name: the temporary file's name is its own.
#[test]
fn a_new_export_takes_its_name_only_when_whole_whatever_the_name() {
    for name in ["a.json".to_owned(), format!("{}.json", "a".repeat(250))] {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(&name);
        write_whole(&path, Existing::Keep, |f| {
            assert!(
                std::fs::symlink_metadata(&path).is_err(),
                "the name is taken mid-write"
            );
            std::io::Write::write_all(f, OLD)
        })
        .unwrap();
        assert_eq!(std::fs::read(&path).unwrap(), OLD);
        assert_eq!(names(dir.path()), vec![name]);
    }
}

/// What an export writes comes back whole through an import, in every shape of JSON export;
/// Markdown is written as `export_text` says.
#[test]
fn an_export_file_round_trips_through_an_import() {
    let rt = rt();
    let dir = tempfile::tempdir().unwrap();
    let (here, there) = (dir.path().join("here"), dir.path().join("there"));
    let source = write(dir.path(), "source.json", &parley_many(3));
    let a = rt.block_on(core(&here));
    rt.block_on(a.history().import(&source, false)).unwrap();
    let some = Some(vec![ChatId("c0".into()), ChatId("c2".into())]);
    let cases = [
        (None, false, ExportFormat::Json),
        (None, true, ExportFormat::Json),
        (some.clone(), false, ExportFormat::Json),
        (some.clone(), true, ExportFormat::Json),
        (None, false, ExportFormat::Markdown),
        (some.clone(), false, ExportFormat::Markdown),
    ];
    for (i, (chats, branch, format)) in cases.into_iter().enumerate() {
        let choice = ExportChoice {
            chats,
            branch,
            format,
        };
        let out = dir.path().join(choice.file_name());
        let _ = std::fs::remove_file(&out);
        let left_out = rt
            .block_on(a.history().export_to_file(&choice, &out, Existing::Keep))
            .unwrap();
        assert!(left_out.is_empty(), "{choice:?}");
        let text = std::fs::read_to_string(&out).unwrap();
        let expected = rt.block_on(a.history().export_text(&choice)).unwrap().text;
        if format == ExportFormat::Markdown {
            assert_eq!(text, expected, "{choice:?}");
            continue;
        }
        let b_dir = there.join(i.to_string());
        let b = rt.block_on(core(&b_dir));
        let report = rt.block_on(b.history().import(&out, false)).unwrap();
        let wanted = choice.chats.as_ref().map_or(3, |c| c.len() as u32);
        assert_eq!(report.chats_added, wanted, "{choice:?}");
        let back = rt.block_on(b.history().export_text(&choice)).unwrap().text;
        let strip = |t: &str| {
            let mut v: serde_json::Value = serde_json::from_str(t).unwrap();
            v["exported_at"] = 0.into();
            v
        };
        assert_eq!(strip(&back), strip(&expected), "{choice:?}");
    }
}
