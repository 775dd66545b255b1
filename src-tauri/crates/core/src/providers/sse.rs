//! A spec-correct, incremental Server-Sent Events parser (WHATWG HTML, "Parsing an event
//! stream"). Bytes in, in any chunking; events out. Lines end in CR, LF or CRLF (a CRLF split
//! across chunks counts once); a leading BOM is dropped; `:` lines are comments; a single space
//! after the colon is stripped; `data` lines join with `\n`; an event is dispatched at a blank
//! line, and only if it has data. A line is decoded only once complete, so a UTF-8 character
//! split across chunks is never damaged.

/// One dispatched event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    /// The `event:` field, or `message` when absent.
    pub event: String,
    /// The joined `data:` lines.
    pub data: String,
    /// The last `id:` seen, if any.
    pub id: Option<String>,
}

/// The longest line (and the largest event) a stream may send: 32 MiB. Beyond it the stream is
/// refused with an error instead of growing without end.
pub const MAX_LINE_BYTES: usize = 32 * 1024 * 1024;

/// The incremental parser. Each byte is looked at once: a line in progress is not searched
/// again when more of it arrives.
#[derive(Debug, Default)]
pub struct SseParser {
    buf: Vec<u8>,
    /// How much of `buf` is known to hold no line break.
    scanned: usize,
    /// A line or an event went over [`MAX_LINE_BYTES`].
    too_long: bool,
    /// The previous chunk ended with CR, so a leading LF in the next one belongs to it.
    after_cr: bool,
    started: bool,
    event: String,
    data: String,
    has_data: bool,
    last_id: Option<String>,
    retry_ms: Option<u64>,
    comments: u64,
}

impl SseParser {
    /// A fresh parser.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many comment lines (keep-alives) were seen so far.
    pub fn comments_seen(&self) -> u64 {
        self.comments
    }

    /// The last `retry:` value, in milliseconds.
    pub fn retry_ms(&self) -> Option<u64> {
        self.retry_ms
    }

    /// Feeds bytes; complete events are appended to `out`.
    pub fn push(&mut self, mut bytes: &[u8], out: &mut Vec<SseEvent>) {
        if self.after_cr {
            if let Some(rest) = bytes.strip_prefix(b"\n") {
                bytes = rest;
            }
            if !bytes.is_empty() {
                self.after_cr = false;
            }
        }
        self.buf.extend_from_slice(bytes);
        if !self.started {
            if self.buf.len() < 3 && b"\xEF\xBB\xBF".starts_with(&self.buf) {
                return; // maybe a BOM still arriving
            }
            if self.buf.starts_with(b"\xEF\xBB\xBF") {
                self.buf.drain(..3);
            }
            self.started = true;
        }
        let mut start = 0;
        let mut i = self.scanned;
        let len = self.buf.len();
        while i < len {
            let b = self.buf[i];
            if b == b'\n' || b == b'\r' {
                let line_end = i;
                if b == b'\r' {
                    if i + 1 < len {
                        if self.buf[i + 1] == b'\n' {
                            i += 1;
                        }
                    } else {
                        self.after_cr = true;
                    }
                }
                let line = String::from_utf8_lossy(&self.buf[start..line_end]).into_owned();
                self.process_line(&line, out);
                start = i + 1;
            }
            i += 1;
        }
        if start > 0 {
            self.buf.drain(..start);
        }
        self.scanned = self.buf.len();
        if self.buf.len() > MAX_LINE_BYTES || self.data.len() > MAX_LINE_BYTES {
            self.too_long = true;
            self.buf = Vec::new();
            self.data = String::new();
            self.scanned = 0;
        }
    }

    /// True once a line or an event went over [`MAX_LINE_BYTES`]; the stream must stop.
    pub fn too_long(&self) -> bool {
        self.too_long
    }

    fn process_line(&mut self, line: &str, out: &mut Vec<SseEvent>) {
        if self.too_long {
            return;
        }
        if line.is_empty() {
            self.dispatch(out);
            return;
        }
        if line.starts_with(':') {
            self.comments += 1;
            return;
        }
        let (field, value) = match line.find(':') {
            Some(pos) => {
                let v = &line[pos + 1..];
                (&line[..pos], v.strip_prefix(' ').unwrap_or(v))
            }
            None => (line, ""),
        };
        match field {
            "event" => {
                self.event.clear();
                self.event.push_str(value);
            }
            "data" => {
                if self.has_data {
                    self.data.push('\n');
                }
                self.data.push_str(value);
                self.has_data = true;
            }
            "id" if !value.contains('\0') => {
                self.last_id = Some(value.to_owned());
            }
            "retry" if !value.is_empty() && value.bytes().all(|c| c.is_ascii_digit()) => {
                self.retry_ms = value.parse().ok();
            }
            _ => {}
        }
    }

    fn dispatch(&mut self, out: &mut Vec<SseEvent>) {
        if !self.has_data {
            self.event.clear();
            return;
        }
        let event = if self.event.is_empty() {
            "message".to_owned()
        } else {
            std::mem::take(&mut self.event)
        };
        out.push(SseEvent {
            event,
            data: std::mem::take(&mut self.data),
            id: self.last_id.clone(),
        });
        self.has_data = false;
        self.event.clear();
    }

    /// True when bytes of an unfinished line or event are buffered (the stream was cut short).
    pub fn has_partial(&self) -> bool {
        !self.buf.is_empty() || self.has_data
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_all(chunks: &[&[u8]]) -> Vec<SseEvent> {
        let mut p = SseParser::new();
        let mut out = Vec::new();
        for c in chunks {
            p.push(c, &mut out);
        }
        out
    }

    fn data(events: &[SseEvent]) -> Vec<&str> {
        events.iter().map(|e| e.data.as_str()).collect()
    }

    #[test]
    fn basic_fields_and_defaults() {
        let ev = parse_all(&[b"event: ping\ndata: {\"a\":1}\nid: 7\n\ndata:x\n\n"]);
        assert_eq!(ev.len(), 2);
        assert_eq!(ev[0].event, "ping");
        assert_eq!(ev[0].data, "{\"a\":1}");
        assert_eq!(ev[0].id.as_deref(), Some("7"));
        assert_eq!(ev[1].event, "message");
        assert_eq!(ev[1].data, "x");
    }

    #[test]
    fn multiline_data_and_only_one_space_stripped() {
        let ev = parse_all(&[b"data: a\ndata:  b\ndata\n\n"]);
        assert_eq!(data(&ev), vec!["a\n b\n"]);
    }

    #[test]
    fn crlf_cr_and_split_crlf() {
        assert_eq!(
            data(&parse_all(&[b"data: a\r\n\r\ndata: b\r\rdata: c\n\n"])),
            vec!["a", "b", "c"]
        );
        // CR at the end of one chunk, LF at the start of the next: one line ending, not two.
        assert_eq!(
            data(&parse_all(&[b"data: a\r", b"\ndata: b\r\n\r\n"])),
            vec!["a\nb"]
        );
    }

    #[test]
    fn comments_and_empty_events_dispatch_nothing() {
        let mut p = SseParser::new();
        let mut out = Vec::new();
        p.push(b": keep-alive\n\n: again\n\nevent: x\n\n", &mut out);
        assert!(out.is_empty());
        assert_eq!(p.comments_seen(), 2);
    }

    #[test]
    fn bom_is_dropped_even_when_split() {
        assert_eq!(
            data(&parse_all(&[b"\xEF", b"\xBB\xBFdata: a\n\n"])),
            vec!["a"]
        );
    }

    #[test]
    fn utf8_split_inside_a_character() {
        let bytes = "data: 😊é\n\n".as_bytes();
        for cut in 1..bytes.len() {
            let ev = parse_all(&[&bytes[..cut], &bytes[cut..]]);
            assert_eq!(data(&ev), vec!["😊é"], "cut at {cut}");
        }
    }

    #[test]
    fn unfinished_event_is_not_dispatched() {
        let mut p = SseParser::new();
        let mut out = Vec::new();
        p.push(b"data: a\n", &mut out);
        assert!(out.is_empty());
        assert!(p.has_partial());
    }

    /// Feeds `total` bytes of one line in `chunk`-byte pieces; returns the time taken.
    fn feed_line(total: usize, chunk: usize) -> std::time::Duration {
        let piece = vec![b'x'; chunk];
        let mut p = SseParser::new();
        let mut out = Vec::new();
        let t = std::time::Instant::now();
        p.push(b"data: ", &mut out);
        for _ in 0..total / chunk {
            p.push(&piece, &mut out);
        }
        p.push(b"\n\n", &mut out);
        assert_eq!(out.len(), 1);
        t.elapsed()
    }

    #[test]
    fn a_long_line_in_small_pieces_is_read_in_linear_time() {
        // Each byte is looked at once: four times the line, about four times the time (a
        // rescan on every piece would be sixteen).
        let a = feed_line(256 * 1024, 16);
        let b = feed_line(1024 * 1024, 16);
        assert!(
            b < a * 10 + std::time::Duration::from_millis(60),
            "256 KiB took {a:?}, 1 MiB took {b:?}"
        );
    }

    #[test]
    fn a_line_or_event_over_the_cap_stops_the_stream() {
        let mib = vec![b'y'; 1024 * 1024];
        // One endless line.
        let mut p = SseParser::new();
        let mut out = Vec::new();
        p.push(b"data: ", &mut out);
        for _ in 0..=MAX_LINE_BYTES / mib.len() {
            p.push(&mib, &mut out);
        }
        assert!(p.too_long() && out.is_empty());
        // Many data lines adding up to one endless event.
        let mut p = SseParser::new();
        let mut line = b"data: ".to_vec();
        line.extend_from_slice(&mib);
        line.push(b'\n');
        for _ in 0..=MAX_LINE_BYTES / mib.len() {
            p.push(&line, &mut out);
        }
        assert!(p.too_long() && out.is_empty());
        // Under the cap: fine.
        let mut p = SseParser::new();
        p.push(&line, &mut out);
        p.push(b"\n", &mut out);
        assert!(!p.too_long() && out.len() == 1);
    }
}
