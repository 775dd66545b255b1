//! Imports, the reading half: a file of any format Parley reads (its own export, ChatGPT's or
//! Claude's `conversations.json`) is read as a stream of chats, one at a time — each checked,
//! written into a private staging database and dropped — so memory follows the largest chat,
//! never the file. The merge (`Store::merge_staged`) follows the staging database as it is
//! written, on a thread of its own.
//! Reading runs on a blocking thread, off the async executor; it stops between reads and
//! between chats when cancelled, and reports its progress at most ten times a second.

use super::foreign::{detect, invalid, Source};
use super::merge::{Follow, Written};
use super::HistoryService;
use crate::error::{CoreError, StoreError};
use parley_protocol::{ChatExport, ImportProgress, ImportReport, Part};
use std::cell::{Cell, RefCell};
use std::collections::HashSet;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::mpsc::Sender;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// The largest file an import reads. Memory does not grow with the file (it is read one chat
/// at a time); this bounds the disk an import takes (the staging database and the merge's copy
/// of it, about three times the file) and the time of the merge, which is one transaction.
pub const MAX_IMPORT_BYTES: u64 = 512 << 20;

/// The largest chat an import reads, in bytes of the file: one chat is what is held in memory
/// at a time, so this is what bounds an import's memory (peak about twice the largest chat).
pub const MAX_CHAT_BYTES: u64 = 64 << 20;

/// The longest text of one part (a row of the database) an import accepts.
pub const MAX_PART_BYTES: usize = 16 << 20;

/// The staging database commits after about this many bytes of the file; the merge, which
/// follows it, reads what is committed.
pub(super) const COMMIT_BYTES: u64 = 4 << 20;

/// How often progress is reported, at most.
const PROGRESS_EVERY: Duration = Duration::from_millis(100);

/// What the reading says when the merge it feeds has stopped (the merge's error is the
/// import's).
const MERGE_STOPPED: &str = "the merge stopped.";

/// What a cancelled import says.
pub(super) const CANCELLED: &str = "The import was cancelled; nothing was added.";

/// Cancels an import and hears its progress. Clones share the same import.
#[derive(Clone, Default)]
pub struct ImportControl {
    /// Tells one import's controls from another's.
    identity: Arc<()>,
    cancel: CancellationToken,
    progress: Option<Arc<dyn Fn(ImportProgress) + Send + Sync>>,
}

impl ImportControl {
    /// A control that nobody listens to and that is not cancelled.
    pub fn new() -> Self {
        Self::default()
    }

    /// Calls `f` with the import's progress, at most about ten times a second, and once more
    /// when the merge starts.
    pub fn on_progress(mut self, f: impl Fn(ImportProgress) + Send + Sync + 'static) -> Self {
        self.progress = Some(Arc::new(f));
        self
    }

    /// Stops the import at its next read or chat; nothing is merged.
    pub fn cancel(&self) {
        self.cancel.cancel();
    }

    /// True once [`ImportControl::cancel`] was called.
    pub fn is_cancelled(&self) -> bool {
        self.cancel.is_cancelled()
    }

    /// True when `other` controls the same import (a clone of this control).
    pub fn same_as(&self, other: &ImportControl) -> bool {
        Arc::ptr_eq(&self.identity, &other.identity)
    }

    fn send(&self, p: ImportProgress) {
        if let Some(f) = &self.progress {
            f(p);
        }
    }
}

/// The state of one reading: bytes read, where the current chat started, chats so far, and
/// why reading stopped when it was not the parser's doing (cancelled, a chat too large).
pub(super) struct Meter<'a> {
    control: &'a ImportControl,
    total: u64,
    chat_cap: u64,
    read: Cell<u64>,
    mark: Cell<u64>,
    item: Cell<usize>,
    chats: Cell<u32>,
    last: Cell<Option<Instant>>,
    stop: RefCell<Option<String>>,
}

impl<'a> Meter<'a> {
    pub(super) fn new(control: &'a ImportControl, total: u64) -> Self {
        Meter {
            control,
            total,
            chat_cap: MAX_CHAT_BYTES,
            read: Cell::new(0),
            mark: Cell::new(0),
            item: Cell::new(0),
            chats: Cell::new(0),
            last: Cell::new(None),
            stop: RefCell::new(None),
        }
    }

    /// The same meter with a smaller chat cap (tests).
    #[cfg(test)]
    pub(super) fn with_chat_cap(mut self, cap: u64) -> Self {
        self.chat_cap = cap;
        self
    }

    /// Chat `i` (from 0) of the file starts here: the size cap counts from this point.
    pub(super) fn start_item(&self, i: usize) {
        self.mark.set(self.read.get());
        self.item.set(i);
    }

    /// `Err` once the import is cancelled (checked inside long loops too).
    pub(super) fn check(&self) -> Result<(), String> {
        if self.control.is_cancelled() {
            return Err(self.stop_with(CANCELLED.to_owned()));
        }
        Ok(())
    }

    pub(super) fn stop_with(&self, why: String) -> String {
        self.stop.borrow_mut().get_or_insert(why).clone()
    }

    /// Why reading stopped, when it was not the file's fault.
    pub(super) fn stopped(&self) -> Option<String> {
        self.stop.borrow().clone()
    }

    /// The bytes of the file the current chat took so far.
    fn chat_bytes(&self) -> u64 {
        self.read.get() - self.mark.get()
    }

    fn chat_done(&self) {
        self.chats.set(self.chats.get() + 1);
        self.tick(false);
    }

    /// Reports progress when the last report is old enough (or `force`).
    fn tick(&self, force: bool) {
        let now = Instant::now();
        if !force && self.last.get().is_some_and(|t| now - t < PROGRESS_EVERY) {
            return;
        }
        self.last.set(Some(now));
        self.control.send(ImportProgress {
            bytes_read: self.read.get().min(self.total),
            bytes_total: self.total,
            chats: self.chats.get(),
            merging: false,
        });
    }
}

struct Metered<'m, 'a, R> {
    inner: R,
    meter: &'m Meter<'a>,
}

impl<R: Read> Read for Metered<'_, '_, R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let m = self.meter;
        m.check().map_err(std::io::Error::other)?;
        let n = self.inner.read(buf)?;
        m.read.set(m.read.get() + n as u64);
        if m.read.get() - m.mark.get() > m.chat_cap {
            return Err(std::io::Error::other(m.stop_with(format!(
                "chat {} of the file is larger than {} MB, the most Parley imports in one chat.",
                m.item.get() + 1,
                m.chat_cap >> 20
            ))));
        }
        m.tick(false);
        Ok(n)
    }
}

/// The file's chats, one at a time, in whatever format it is: `each` is called with every
/// chat in turn; the first failure stops the reading.
pub(super) fn each_chat(
    file: &Path,
    meter: &Meter,
    each: &mut dyn FnMut(ChatExport) -> Result<(), String>,
) -> Result<(), CoreError> {
    match detect(file)? {
        Source::Parley => super::parley_format::each_chat(file, meter, each).map(drop),
        Source::ChatGpt => super::foreign::each_chatgpt(file, meter, each),
        Source::Claude => super::claude::each_claude(file, meter, each),
    }
}

/// Refuses a file larger than [`MAX_IMPORT_BYTES`]; returns its size.
pub(super) fn size_of(file: &Path) -> Result<u64, CoreError> {
    let len = std::fs::metadata(file)
        .map_err(|e| invalid(file, format!("it could not be read ({e}).")))?
        .len();
    if len > MAX_IMPORT_BYTES {
        return Err(invalid(
            file,
            format!(
                "the file is {} MB; Parley imports files of up to {} MB (a chat of up to {} MB, read one at a time so that memory stays within about twice the largest chat).",
                len >> 20,
                MAX_IMPORT_BYTES >> 20,
                MAX_CHAT_BYTES >> 20
            ),
        ));
    }
    Ok(len)
}

/// Checks one chat on its own: ids present, every message listed after its parent and in
/// this chat, the head and the turns its own, no text over [`MAX_PART_BYTES`]. Ids repeated
/// across chats are refused by the staging database's keys.
pub(super) fn check_chat(chat: &ChatExport) -> Result<(), String> {
    let sid = &chat.session.id;
    if sid.0.trim().is_empty() {
        return Err(format!("a chat has an empty or repeated id ({sid})."));
    }
    let mut seen: HashSet<&str> = HashSet::with_capacity(chat.messages.len());
    for m in &chat.messages {
        if m.id.0.trim().is_empty() || seen.contains(m.id.0.as_str()) {
            return Err(format!("a message has an empty or repeated id ({}).", m.id));
        }
        if &m.chat_id != sid {
            return Err(format!(
                "message {} is listed in chat {sid} but says it belongs to {}.",
                m.id, m.chat_id
            ));
        }
        if let Some(p) = &m.parent_id {
            if !seen.contains(p.0.as_str()) {
                return Err(format!(
                    "message {} follows {p}, which is not listed before it in its chat.",
                    m.id
                ));
            }
        }
        for part in &m.parts {
            let len = part_len(part);
            if len > MAX_PART_BYTES {
                return Err(format!(
                    "message {} of chat {sid} holds a text of more than {} MB ({len} bytes); Parley imports texts of up to {} MB.",
                    m.id,
                    MAX_PART_BYTES >> 20,
                    MAX_PART_BYTES >> 20
                ));
            }
        }
        seen.insert(&m.id.0);
    }
    if let Some(h) = &chat.head {
        if !seen.contains(h.0.as_str()) {
            return Err(format!(
                "chat {sid} ends at {h}, which is not one of its messages."
            ));
        }
    }
    for t in &chat.turns {
        let answer_elsewhere = t
            .assistant_message_id
            .as_ref()
            .is_some_and(|a| !seen.contains(a.0.as_str()));
        if &t.chat_id != sid || !seen.contains(t.user_message_id.0.as_str()) || answer_elsewhere {
            return Err(format!("turn {} does not belong to chat {sid}.", t.id));
        }
    }
    Ok(())
}

/// The bytes of a part's stored body (the row the cap is about).
fn part_len(p: &Part) -> usize {
    match p {
        Part::Text { text } | Part::Reasoning { text, .. } => text.len(),
        Part::ToolCall {
            arguments, name, ..
        } => arguments.len() + name.len(),
        Part::ToolResult { output, .. } => output.len(),
        Part::Image { data, sha256, .. } => data.as_ref().map_or(sha256.len(), String::len),
        Part::File { text, name, .. } => text.len() + name.len(),
    }
}

/// What the reading found: the report's counts from the file.
#[derive(Debug, Default)]
pub(super) struct Staged {
    bytes: u64,
    chats: u32,
    messages: u32,
    span: Option<(i64, i64)>,
}

impl Staged {
    fn add(&mut self, chat: &ChatExport) {
        self.chats += 1;
        self.messages += chat.messages.len() as u32;
        for m in &chat.messages {
            let t = m.created_at;
            self.span = Some(match self.span {
                Some((a, b)) => (a.min(t), b.max(t)),
                None => (t, t),
            });
        }
    }
}

/// Reads `file` into the new staging database `staging`, chat by chat (a blocking call),
/// telling the merge (`written`) how far it is after each commit.
pub(super) fn stage(
    file: &Path,
    staging: &Path,
    control: &ImportControl,
    ns: &uuid::Uuid,
    written: &Sender<Written>,
) -> Result<Staged, CoreError> {
    let source = detect(file)?;
    let total = size_of(file)?;
    let meter = Meter::new(control, total);
    let mut db = super::staging::Staging::create(staging)?;
    let mut found = Staged::default();
    let mut committed_at = 0;
    // The merge has stopped (it failed): so does the reading.
    let tell = |w: Written| written.send(w).map_err(|_| MERGE_STOPPED.to_owned());
    each_chat(file, &meter, &mut |mut chat| {
        meter.check()?;
        super::foreign_ids::namespace_chat(&mut chat, source, ns);
        check_chat(&chat)?;
        db.write(&chat)?;
        found.add(&chat);
        drop(chat);
        if meter.chat_bytes() > super::merge::RELEASE_AFTER as u64 {
            crate::util::release_freed_memory();
        }
        if meter.read.get() - committed_at > COMMIT_BYTES {
            db.commit().map_err(|e| e.to_string())?;
            tell(Written::Upto(db.last_chat().map_err(|e| e.to_string())?))?;
            committed_at = meter.read.get();
        }
        meter.chat_done();
        Ok(())
    })?;
    meter.check().map_err(|why| invalid(file, why))?;
    db.finish()?;
    tell(Written::All).map_err(|why| invalid(file, why))?;
    meter.tick(true);
    found.bytes = total;
    Ok(found)
}

/// The private staging file of one import, removed (with its `-wal` and `-shm`) when dropped,
/// whatever happened.
struct StagingFile(PathBuf);

impl Drop for StagingFile {
    fn drop(&mut self) {
        for suffix in ["", "-wal", "-shm", "-journal"] {
            let _ = std::fs::remove_file(format!("{}{suffix}", self.0.display()));
        }
    }
}

impl HistoryService {
    /// Imports a file (Parley's export, ChatGPT's or Claude's): what is missing is added, in
    /// one transaction; nothing present is changed. `dry_run`: only says what would be added.
    pub async fn import(&self, file: &Path, dry_run: bool) -> Result<ImportReport, CoreError> {
        self.import_with(file, dry_run, &ImportControl::new()).await
    }

    /// [`HistoryService::import`], cancellable and with progress (`control`). The file is read
    /// and staged on a blocking thread; dropping the returned future cancels it too.
    pub async fn import_with(
        &self,
        file: &Path,
        dry_run: bool,
        control: &ImportControl,
    ) -> Result<ImportReport, CoreError> {
        let cancel_if_dropped = control.cancel.clone().drop_guard();
        let report = self.stage_and_merge(file, dry_run, control).await;
        cancel_if_dropped.disarm();
        report
    }

    async fn stage_and_merge(
        &self,
        file: &Path,
        dry_run: bool,
        control: &ImportControl,
    ) -> Result<ImportReport, CoreError> {
        let store = &self.shared.store;
        let dir = crate::store::backup::backups_dir(store.path());
        crate::util::private_dir(&dir).map_err(|e| crate::store::io_err(&dir, e))?;
        let staging = StagingFile(dir.join(format!(".importing-{}.db", crate::new_id())));
        let ns = super::foreign_ids::namespace(&self.settings).await?;
        let (from, to, ctl) = (file.to_owned(), staging.0.clone(), control.clone());
        // Read and merged at once, each on a thread of its own: the merge follows the staging
        // database as it is written.
        let (written, follow) = Follow::written(control.cancel.clone());
        let reading = tokio::task::spawn_blocking(move || {
            let found = stage(&from, &to, &ctl, &ns, &written)?;
            ctl.send(ImportProgress {
                bytes_read: found.bytes,
                bytes_total: found.bytes,
                chats: found.chats,
                merging: true,
            });
            Ok::<_, CoreError>(found)
        });
        let (found, merged) =
            tokio::join!(reading, store.merge_staged(&staging.0, dry_run, follow));
        let found = found.map_err(|e| CoreError::Internal(format!("the import stopped: {e}")))?;
        let (found, mut report) = match (found, merged) {
            // Committed: added, even if Cancel came after the commit.
            (Ok(found), Ok(report)) => (found, report),
            _ if control.is_cancelled() => return Err(invalid(file, CANCELLED.into())),
            // Whichever failed first is the import's failure: the other stopped for want of it.
            (Err(_), Err(merge)) if !super::merge::stopped_reading(&merge) => {
                return Err(merge.into())
            }
            (Err(reading), _) => return Err(reading),
            (Ok(_), Err(merge)) => return Err(merge.into()),
        };
        drop(staging);
        // What the file held, as read (the merge counts what reached the staging database).
        report.chats_in_file = found.chats;
        report.messages_in_file = found.messages;
        report.span = found.span;
        Ok(report)
    }
}

/// Calls `each` with every element of a JSON array, one at a time, as it is read; the first
/// failure stops it. `meter` is told where each element starts (the chat size cap).
pub(super) struct EachSeq<'e, 'm, 'a, T, F> {
    pub(super) meter: &'m Meter<'a>,
    pub(super) each: &'e mut F,
    pub(super) _t: std::marker::PhantomData<T>,
}

impl<'de, T, F> serde::de::Visitor<'de> for EachSeq<'_, '_, '_, T, F>
where
    T: serde::de::DeserializeOwned,
    F: FnMut(usize, T) -> Result<(), String>,
{
    type Value = ();
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("an array of chats")
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut i = 0;
        loop {
            self.meter.start_item(i);
            let Some(item) = seq.next_element::<T>()? else {
                return Ok(());
            };
            if let Err(why) = (self.each)(i, item) {
                return Err(serde::de::Error::custom(self.meter.stop_with(why)));
            }
            i += 1;
        }
    }
}

impl<'de, T, F> serde::de::DeserializeSeed<'de> for EachSeq<'_, '_, '_, T, F>
where
    T: serde::de::DeserializeOwned,
    F: FnMut(usize, T) -> Result<(), String>,
{
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

/// A JSON reader of `file` through `meter` (counted, cancellable, the chat cap).
pub(super) fn json_reader<'m>(
    file: &Path,
    meter: &'m Meter,
) -> Result<serde_json::Deserializer<serde_json::de::IoRead<impl Read + 'm>>, CoreError> {
    let f = std::fs::File::open(file).map_err(|e| invalid(file, e.to_string()))?;
    let metered = Metered { inner: f, meter };
    Ok(serde_json::Deserializer::from_reader(
        std::io::BufReader::with_capacity(64 << 10, metered),
    ))
}

/// Reads a JSON array one element at a time, converting each; the first failure stops it.
pub(super) fn stream_array<T: serde::de::DeserializeOwned>(
    file: &Path,
    meter: &Meter,
    mut each: impl FnMut(usize, T) -> Result<(), String>,
) -> Result<(), CoreError> {
    let mut de = json_reader(file, meter)?;
    serde::Deserializer::deserialize_seq(
        &mut de,
        EachSeq {
            meter,
            each: &mut each,
            _t: std::marker::PhantomData,
        },
    )
    .and_then(|()| de.end())
    .map_err(|e| {
        let why = meter
            .stopped()
            .unwrap_or_else(|| format!("it could not be imported: {e}."));
        invalid(file, why)
    })
}

/// Maps a staging write's failure to a sentence: a repeated id is the file's fault.
pub(super) fn repeated(e: StoreError, what: &str, id: &str) -> String {
    let constraint = matches!(
        &e,
        StoreError::Sqlite(rusqlite::Error::SqliteFailure(f, _))
            if f.code == rusqlite::ErrorCode::ConstraintViolation
    );
    if constraint {
        format!("{what} has an empty or repeated id ({id}).")
    } else {
        e.to_string()
    }
}

/// Checks a whole export in memory as an import does chat by chat, ids repeated across chats
/// included (tests).
#[cfg(test)]
pub(crate) fn check_export(export: &parley_protocol::ExportFile) -> Result<(), String> {
    let mut chats = HashSet::new();
    let mut messages = HashSet::new();
    for chat in &export.chats {
        check_chat(chat)?;
        if !chats.insert(chat.session.id.0.as_str()) {
            return Err(format!(
                "a chat has an empty or repeated id ({}).",
                chat.session.id
            ));
        }
        for m in &chat.messages {
            if !messages.insert(m.id.0.as_str()) {
                return Err(format!("a message has an empty or repeated id ({}).", m.id));
            }
        }
    }
    Ok(())
}
