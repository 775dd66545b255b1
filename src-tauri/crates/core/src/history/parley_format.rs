//! Reading Parley's own export (docs/FORMAT.md) as a stream: the top-level object's `format`
//! and `version` are checked when its `chats` array starts (Parley writes them first), then the
//! chats are handed on one at a time — the file is never held whole, as text or as an
//! `ExportFile`. A file that lists `chats` before its version is read to the end and its
//! version checked then (nothing is merged before).

use super::foreign::invalid;
use super::import::{json_reader, EachSeq, Meter};
use crate::error::CoreError;
use parley_protocol::{ChatExport, ExportFile, EXPORT_FORMAT, EXPORT_VERSION};
use serde::de::{IgnoredAny, MapAccess, Visitor};
use std::cell::Cell;
use std::path::Path;

/// What the top level said.
#[derive(Default)]
struct Header {
    format: Option<Option<String>>,
    version: Option<Option<u32>>,
    exported_at: Option<i64>,
    chats: bool,
}

/// Why the header refuses the file, if it does; `None` while it may still come.
fn refused(h: &Header, complete: bool) -> Option<String> {
    match &h.format {
        Some(Some(f)) if f == EXPORT_FORMAT => {}
        None if !complete => return None,
        _ => {
            return Some(format!(
                "it is not a Parley export (its \"format\" is not \"{EXPORT_FORMAT}\")."
            ))
        }
    }
    match h.version {
        Some(Some(v)) if v > EXPORT_VERSION => Some(format!(
            "it was written by a newer Parley (format version {v}; this one reads up to {EXPORT_VERSION}). Update Parley to import it."
        )),
        Some(Some(_)) => None,
        None if !complete => None,
        _ => Some("it has no format version.".into()),
    }
}

struct Top<'e, 'm, 'a, F> {
    meter: &'m Meter<'a>,
    each: &'e mut F,
    in_chats: &'e Cell<bool>,
}

impl<'de, F: FnMut(usize, ChatExport) -> Result<(), String>> Visitor<'de> for Top<'_, '_, '_, F> {
    type Value = Header;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a Parley export (an object with format, version and chats)")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Header, A::Error> {
        let mut h = Header::default();
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "format" => h.format = Some(map.next_value()?),
                "version" => h.version = Some(map.next_value()?),
                "exported_at" => h.exported_at = map.next_value()?,
                "chats" => {
                    if let Some(why) = refused(&h, false) {
                        return Err(serde::de::Error::custom(self.meter.stop_with(why)));
                    }
                    self.in_chats.set(true);
                    map.next_value_seed(EachSeq {
                        meter: self.meter,
                        each: &mut *self.each,
                        _t: std::marker::PhantomData,
                    })?;
                    self.in_chats.set(false);
                    h.chats = true;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(h)
    }
}

/// The chats of a Parley export, one at a time; returns when the file says it was written.
pub(super) fn each_chat(
    file: &Path,
    meter: &Meter,
    each: &mut dyn FnMut(ChatExport) -> Result<(), String>,
) -> Result<Option<i64>, CoreError> {
    let mut de = json_reader(file, meter)?;
    let in_chats = Cell::new(false);
    let read = serde::Deserializer::deserialize_map(
        &mut de,
        Top {
            meter,
            each: &mut |_, chat| each(chat),
            in_chats: &in_chats,
        },
    )
    .and_then(|h| de.end().map(|()| h));
    let header = read.map_err(|e| {
        use serde_json::error::Category;
        let why = meter.stopped().unwrap_or_else(|| match e.classify() {
            Category::Data if in_chats.get() => {
                format!("it does not have the shape of a Parley export: {e}.")
            }
            _ => format!("it is not a Parley export (not JSON of that shape: {e})."),
        });
        invalid(file, why)
    })?;
    if let Some(why) = refused(&header, true) {
        return Err(invalid(file, why));
    }
    if !header.chats {
        return Err(invalid(
            file,
            "it does not have the shape of a Parley export: it has no \"chats\".".into(),
        ));
    }
    Ok(header.exported_at)
}

/// Reads and checks a whole export file into memory (tests and small files; an import reads
/// the file as a stream instead).
pub fn read_export(file: &Path) -> Result<ExportFile, CoreError> {
    let control = super::ImportControl::new();
    let meter = Meter::new(&control, super::import::size_of(file)?);
    let mut chats = Vec::new();
    let mut ids = std::collections::HashSet::new();
    let mut messages = std::collections::HashSet::new();
    let exported_at = each_chat(file, &meter, &mut |chat| {
        super::import::check_chat(&chat)?;
        if !ids.insert(chat.session.id.0.clone()) {
            return Err(format!(
                "a chat has an empty or repeated id ({}).",
                chat.session.id
            ));
        }
        for m in &chat.messages {
            if !messages.insert(m.id.0.clone()) {
                return Err(format!("a message has an empty or repeated id ({}).", m.id));
            }
        }
        chats.push(chat);
        Ok(())
    })?;
    let mut export = super::foreign::export_of(chats);
    export.exported_at = exported_at.unwrap_or(0);
    Ok(export)
}
