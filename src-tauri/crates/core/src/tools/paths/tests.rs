use super::lexical::{protected_reason, refused_root, relative_parts};
use super::*;

fn ws() -> (tempfile::TempDir, Workspace) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("src/deep")).unwrap();
    std::fs::write(dir.path().join("src/a.txt"), "a").unwrap();
    let w = Workspace::new(dir.path()).unwrap();
    (dir, w)
}

#[test]
fn text_rules_refuse_before_any_lookup() {
    let root = Path::new("/home/u/proj");
    // (given, on Windows too?, expected parts or None for refused)
    let ok: &[(&str, &[&str])] = &[
        ("a.txt", &["a.txt"]),
        ("./src/../src/a.txt", &["src", "a.txt"]),
        ("src//deep/./x", &["src", "deep", "x"]),
        (".", &[]),
        ("src/..", &[]),
        ("/home/u/proj/src/a.txt", &["src", "a.txt"]),
        ("/home/u/proj", &[]),
        ("src\\deep\\x", &["src", "deep", "x"]),
        ("~/x", &["~", "x"]),
        (".gitignore", &[".gitignore"]),
    ];
    for (given, want) in ok {
        for windows in [false, true] {
            let got =
                relative_parts(root, given, windows).unwrap_or_else(|e| panic!("{given}: {e}"));
            assert_eq!(got, want.to_vec(), "{given} (windows: {windows})");
        }
    }
    let refused_everywhere = [
        "",
        "   ",
        "a\0b",
        "a\nb",
        "a\u{1b}b",
        "../x",
        "..",
        "src/../../x",
        "src/deep/../../..",
        "..\\..\\Windows\\win.ini",
        "/etc/passwd",
        "/home/u/project-evil/x",
        "/home/u/proj/../other/x",
        "/home/u/proj/./../x",
        "/home/u",
        "/",
        "//host/share/x",
        "\\\\host\\share\\x",
        "\\\\?\\C:\\x",
        "\\\\.\\pipe\\x",
        "//?/UNC/host/share",
        "C:\\Windows\\win.ini",
        "C:x",
        "c:/x",
        "a.txt:secret",
        "src/a.txt::$DATA",
        "/net/host/x",
        "/Volumes/x",
    ];
    for given in refused_everywhere {
        for windows in [false, true] {
            assert!(
                relative_parts(root, given, windows).is_err(),
                "{given:?} must be refused (windows: {windows})"
            );
        }
    }
    let refused_on_windows = [
        "nul", "NUL.txt", "src/con", "Aux.c", "com1", "lpt9.log", "COM¹", "conin$", "a.", "a ",
        "dir./x", "a<b", "a|b", "a?", "*.rs", "a\"b",
    ];
    for given in refused_on_windows {
        assert!(
            relative_parts(root, given, true).is_err(),
            "{given:?} on Windows"
        );
        assert!(
            relative_parts(root, given, false).is_ok(),
            "{given:?} elsewhere"
        );
    }
    // A Windows root, verbatim or not, compared without case.
    let wroot = Path::new("\\\\?\\C:\\Users\\u\\proj");
    assert_eq!(
        relative_parts(wroot, "c:\\users\\U\\PROJ\\a.txt", true).unwrap(),
        ["a.txt"]
    );
    assert!(relative_parts(wroot, "C:\\Users\\u\\other\\a.txt", true).is_err());
    assert!(relative_parts(wroot, "D:\\Users\\u\\proj\\a.txt", true).is_err());
}

#[test]
fn paths_inside_resolve_and_outside_are_refused() {
    let (dir, w) = ws();
    let root = w.root().to_path_buf();
    let ok = [
        ("src/a.txt", root.join("src/a.txt")),
        ("./src/../src/a.txt", root.join("src/a.txt")),
        ("src/deep/new.txt", root.join("src/deep/new.txt")),
        ("src/new-dir/new.txt", root.join("src/new-dir/new.txt")),
        ("src/missing/../a.txt", root.join("src/a.txt")),
        (".", root.clone()),
    ];
    for (given, want) in ok {
        assert_eq!(w.resolve(given).unwrap(), want, "{given}");
    }
    let abs_inside = root.join("src/a.txt").display().to_string();
    assert!(w.resolve(&abs_inside).is_ok());
    for given in [
        "../x",
        "src/../../x",
        "/etc/passwd",
        "src/missing/../../../x",
        "",
        "a\0b",
    ] {
        assert!(w.resolve(given).is_err(), "{given:?} must be refused");
        assert!(
            w.write_target(given).is_err(),
            "{given:?} must not be written"
        );
    }
    drop(dir);
}

#[cfg(unix)]
#[test]
fn links_are_followed_beneath_the_root_only() {
    let (_dir, w) = ws();
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret"), "s").unwrap();
    let root = w.root().to_path_buf();
    let link =
        |target: &Path, name: &str| std::os::unix::fs::symlink(target, root.join(name)).unwrap();
    link(outside.path(), "escape");
    link(&outside.path().join("secret"), "link");
    link(&root.join("src/a.txt"), "inner");
    link(Path::new("src/a.txt"), "inner-rel");
    link(Path::new("../../../../../../etc/passwd"), "climb");
    link(Path::new("/nonexistent/x"), "dangling");
    link(Path::new("/"), "slash");
    for given in [
        "escape/secret",
        "escape/new-file",
        "link",
        "climb",
        "dangling",
        "slash/etc/passwd",
        "escape",
    ] {
        assert!(w.resolve(given).is_err(), "{given}");
        assert!(w.write_target(given).is_err(), "writing {given}");
        let r = w.dir().unwrap();
        assert!(
            super::super::read::open_regular(&r, Path::new(given)).is_err(),
            "reading {given}"
        );
    }
    // Nothing was created outside.
    assert_eq!(std::fs::read_dir(outside.path()).unwrap().count(), 1);
    // Absolute link targets are refused even when they point inside: resolution beneath the
    // root never starts over at `/`.
    assert!(w.resolve("inner").is_err());
    assert_eq!(w.resolve("inner-rel").unwrap(), root.join("src/a.txt"));
}

#[cfg(unix)]
#[test]
fn protection_is_decided_on_where_a_write_really_lands() {
    let (_dir, w) = ws();
    let root = w.root().to_path_buf();
    std::fs::create_dir_all(root.join(".git/hooks")).unwrap();
    std::fs::create_dir_all(root.join(".github/workflows")).unwrap();
    std::os::unix::fs::symlink(".git/hooks", root.join("scripts")).unwrap();
    std::os::unix::fs::symlink(".github", root.join("gh")).unwrap();
    std::os::unix::fs::symlink("src", root.join("plain")).unwrap();
    let data = root.join("appdata");
    let cases = [
        ("scripts/pre-commit", true),
        ("gh/workflows/ci.yml", true),
        ("plain/x.txt", false),
        ("src/a.txt", false),
        ("appdata/db.sqlite", true),
    ];
    for (given, protected) in cases {
        let t = w.write_target(given).unwrap();
        assert_eq!(
            w.protected_reason(&t.real, std::slice::from_ref(&data))
                .is_some(),
            protected,
            "{given} lands in {}",
            t.real.display()
        );
    }
}

#[test]
fn protected_names_at_any_depth_any_case() {
    let yes = [
        ".git/config",
        "sub/.git/HEAD",
        ".GIT/hooks/x",
        "a/b/.Git",
        ".env",
        ".env.local",
        "api/.env.production",
        ".envrc",
        ".vscode/tasks.json",
        ".idea/workspace.xml",
        ".github/workflows/ci.yml",
        "pkg/.github/Workflows/x.yml",
        ".husky/pre-commit",
        ".githooks/pre-push",
    ];
    for p in yes {
        assert!(protected_reason(Path::new(p)).is_some(), "{p}");
    }
    let no = [
        "src/a.txt",
        ".gitignore",
        ".gitattributes",
        ".github/ISSUE_TEMPLATE.md",
        "env/x",
        "docs/git/x",
        "my.env",
        "workflows/x",
    ];
    for p in no {
        assert!(protected_reason(Path::new(p)).is_none(), "{p}");
    }
}

#[test]
fn roots_that_are_too_wide_are_refused() {
    let home = Path::new("/home/u");
    let refused = [
        "/",
        "/home",
        "/home/u",
        "/etc",
        "/etc/nginx",
        "/usr",
        "/usr/local/lib",
        "/bin",
        "/proc/1",
        "/sys",
        "/dev",
        "/boot",
        "/var",
        "/tmp",
        "/System/Library",
        "/Library",
        "/Users",
        "/private/etc",
        "/root",
        "/opt",
        "/run/user/1000",
    ];
    for r in refused {
        assert!(
            refused_root(Path::new(r), Some(home), false).is_some(),
            "{r}"
        );
    }
    for r in [
        "/home/u/proj",
        "/tmp/x",
        "/var/tmp/build",
        "/opt/app",
        "/srv/site",
        "/private/var/folders/ab/T/x",
    ] {
        assert_eq!(refused_root(Path::new(r), Some(home), false), None, "{r}");
    }
    let whome = Path::new("C:\\Users\\u");
    for r in [
        "C:\\",
        "\\\\?\\C:\\",
        "C:\\Users",
        "c:\\users\\U",
        "C:\\Windows\\System32",
        "C:\\Program Files\\x",
        "C:\\ProgramData",
    ] {
        assert!(
            refused_root(Path::new(r), Some(whome), true).is_some(),
            "{r}"
        );
    }
    assert_eq!(
        refused_root(Path::new("C:\\Users\\u\\proj"), Some(whome), true),
        None
    );
}

#[cfg(unix)]
#[test]
fn a_stored_root_that_now_leads_elsewhere_is_refused() {
    let base = tempfile::tempdir().unwrap();
    let real = base.path().join("proj");
    std::fs::create_dir(&real).unwrap();
    let w = Workspace::new(&real).unwrap();
    let stored = w.root().display().to_string();
    assert!(Workspace::stored(&stored).is_ok());
    // Swap a link in: the stored path now leads to another folder.
    let other = base.path().join("other");
    std::fs::create_dir(&other).unwrap();
    std::fs::remove_dir(&real).unwrap();
    std::os::unix::fs::symlink(&other, &real).unwrap();
    let e = Workspace::stored(&stored).unwrap_err().to_string();
    assert!(e.contains("choose the folder again"), "{e}");
    // Choosing it again is the user's act: it opens the new target.
    assert!(Workspace::new(&real).is_ok());
    assert!(Workspace::new(Path::new("/")).is_err());
    if let Some(h) = dirs::home_dir() {
        assert!(Workspace::new(&h).is_err(), "the home folder itself");
    }
}
