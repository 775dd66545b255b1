//! The start's check follows how the runs before it ended: after clean runs it reads the same
//! few pages at any size (damage elsewhere in the file is not looked for, and so not found at
//! start); after a run that crashed, was killed or saw a damaged page, every page is checked
//! and a damaged file is moved aside, untouched, with the report the window's banner shows.

use super::*;
use crate::chats::ChatTables as _;
use crate::chats::{JournalOp, TurnEnd};
use crate::store::StartCheck;
use crate::{Core, CoreOptions};
use parley_protocol::{ChatId, Part};
use std::sync::Arc;

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

async fn open(dir: &Path) -> Core {
    Core::open(CoreOptions {
        data_dir: dir.to_path_buf(),
        secrets: Arc::new(crate::secrets::MemoryStore::new()),
        http: Default::default(),
    })
    .await
    .unwrap()
}

fn lock_files(dir: &Path) -> Vec<String> {
    std::fs::read_dir(locks_dir(dir))
        .map(|d| {
            d.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".lock"))
                .collect()
        })
        .unwrap_or_default()
}

/// Checks that the core's end left the whole database in its file: the WAL emptied.
fn assert_folded_back(dir: &Path) {
    let wal = dir.join("parley.db-wal");
    let len = std::fs::metadata(&wal).map_or(0, |m| m.len());
    assert_eq!(len, 0, "the WAL was folded back at the end");
}

/// A chat with an answer long enough to fill pages of its own in the file's second half.
async fn long_answer(core: &Core) {
    let s = core.store();
    let sid = ChatId("c".into());
    s.create_chat(sid.clone(), String::new()).await.unwrap();
    let b = s
        .begin_turn(&sid, "q".into(), "p".into(), "m".into(), "me".into())
        .await
        .unwrap();
    let text = "an answer long enough to need its own pages. ".repeat(8000);
    let ops = vec![JournalOp::InsertPart {
        message_id: b.assistant_message_id.clone(),
        index: 0,
        part: Part::Text { text },
    }];
    s.finish_turn(&b.turn_id, ops, TurnEnd::completed())
        .await
        .unwrap();
}

/// Scribbles over 64 KB in the middle of the file (the long answer's pages); returns the bytes.
fn scribble(path: &Path) -> Vec<u8> {
    let mut bytes = std::fs::read(path).unwrap();
    let len = bytes.len();
    for b in &mut bytes[len / 2..len / 2 + 64 * 1024] {
        *b = 0x5a;
    }
    std::fs::write(path, &bytes).unwrap();
    bytes
}

#[test]
fn after_clean_runs_the_start_reads_few_pages_and_damage_seen_brings_the_full_check_back() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("parley.db");
    let core = rt().block_on(open(dir.path()));
    rt().block_on(long_answer(&core));
    drop(core);
    assert_folded_back(dir.path());
    assert_eq!(lock_files(dir.path()), Vec::<String>::new(), "a clean end");
    let damaged = scribble(&db);

    // A clean run before: only the header, the schema and the length are read, so the damaged
    // pages are not (had every page been read, the file would have been moved aside).
    let core = rt().block_on(open(dir.path()));
    assert_eq!(core.open_report().check, StartCheck::Cheap);
    assert!(core.open_report().moved_aside.is_none());
    let err = rt()
        .block_on(core.store().history(&ChatId("c".into())))
        .expect_err("reading the damaged answer fails");
    assert!(err.is_damaged(), "{err:?}");
    assert!(core.store().damage_seen());
    drop(core);
    assert_folded_back(dir.path());
    assert_eq!(
        lock_files(dir.path()).len(),
        1,
        "a run that saw damage keeps its lock"
    );

    // So the next start checks every page, moves the file aside untouched and says so.
    let core = rt().block_on(open(dir.path()));
    assert_eq!(core.open_report().check, StartCheck::Full);
    let aside = core.open_report().moved_aside.clone().expect("moved aside");
    assert!(
        std::fs::read(&aside).unwrap() == damaged,
        "the moved file was changed"
    );
    let status = core.data_status();
    assert_eq!(status.moved_aside, Some(aside.display().to_string()));
    assert!(status.reason.is_some_and(|r| r.contains("quick_check")));
    drop(core);
    assert_folded_back(dir.path());
    assert_eq!(
        lock_files(dir.path()),
        Vec::<String>::new(),
        "the stale lock tidied"
    );
}

/// What the locks folder holds → the check the next start runs.
#[test]
fn the_check_follows_how_the_runs_before_ended() {
    type Setup = fn(&Path) -> Option<Instance>;
    fn stale(d: &Path, name: &str) {
        std::fs::write(locks_dir(d).join(name), b"").unwrap();
    }
    let cases: Vec<(&str, Setup, StartCheck)> = vec![
        ("no lock at all", |_| None, StartCheck::Cheap),
        (
            "a crashed run's lock (its owner gone)",
            |d| {
                stale(d, "01a2-dead.lock");
                None
            },
            StartCheck::Full,
        ),
        (
            "a run that is still going (its lock held)",
            |d| Some(Instance::acquire(d).unwrap()),
            StartCheck::Cheap,
        ),
        (
            "one still going and one crashed",
            |d| {
                stale(d, "01a2-dead.lock");
                Some(Instance::acquire(d).unwrap())
            },
            StartCheck::Full,
        ),
        (
            "a run that saw damage (ended, lock kept)",
            |d| {
                Instance::acquire(d).unwrap().end(false);
                None
            },
            StartCheck::Full,
        ),
        (
            "a run that ended cleanly",
            |d| {
                Instance::acquire(d).unwrap().end(true);
                None
            },
            StartCheck::Cheap,
        ),
        (
            "files that are no lock (pending, groups, other)",
            |d| {
                stale(d, "01a2-x.pending");
                stale(d, "01a2-x.groups");
                stale(d, "notes.txt");
                None
            },
            StartCheck::Cheap,
        ),
    ];
    for (what, setup, want) in cases {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(locks_dir(dir.path())).unwrap();
        let _other = setup(dir.path());
        let core = rt().block_on(open(dir.path()));
        assert_eq!(core.open_report().check, want, "{what}");
    }
}

/// The cheap check still finds a file that is not a database, a cut one, or a damaged schema,
/// and moves it aside untouched.
#[test]
fn the_cheap_check_finds_what_it_reads() {
    type Damage = fn(&mut Vec<u8>);
    let cases: Vec<(&str, Damage)> = vec![
        ("not a database", |b| {
            *b = b"years of chats, but not a database ".repeat(300)
        }),
        ("cut in half", |b| b.truncate(b.len() / 2)),
        ("cut by one page", |b| b.truncate(b.len() - 4096)),
        ("cut to the header page", |b| b.truncate(4096)),
        ("header zeroed", |b| b[..100].fill(0)),
        ("schema page scribbled", |b| b[100..4096].fill(0xA5)),
    ];
    for (what, damage) in cases {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("parley.db");
        let core = rt().block_on(open(dir.path()));
        rt().block_on(long_answer(&core));
        drop(core);
        assert_folded_back(dir.path());
        let mut bytes = std::fs::read(&path).unwrap();
        damage(&mut bytes);
        std::fs::write(&path, &bytes).unwrap();
        let (_store, report) =
            crate::store::Store::open_with(&path, crate::search::register, StartCheck::Cheap)
                .unwrap();
        let aside = report
            .moved_aside
            .unwrap_or_else(|| panic!("{what}: not moved aside"));
        assert!(std::fs::read(&aside).unwrap() == bytes, "{what}: changed");
    }
}
