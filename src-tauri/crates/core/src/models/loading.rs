//! What the engine is doing while it loads a model, in a sentence for the status line (Settings
//! → Models, and the answer waiting for it): the stage llama-server's own log lines name
//! (started; reading the model's file; preparing the conversation's memory) and, on Linux, how
//! much of the file is in the engine's memory yet (the file is mapped and read in at once, so
//! the engine's resident memory grows with it).

use super::memory::human;

/// How far a start has got, from the engine's log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Stage {
    /// The program started; it has not said anything about the model yet.
    Starting,
    /// It is reading the model's file.
    Reading,
    /// The weights are in; it is setting up the conversation's memory (the KV cache).
    Preparing,
}

/// The furthest stage the engine's log lines say it has reached.
pub fn stage(lines: &[String]) -> Stage {
    let mut at = Stage::Starting;
    for l in lines {
        let l = l.to_lowercase();
        let s = if [
            "threadpool init",
            "initializing, n_slots",
            "llama_context",
            "warming up",
        ]
        .iter()
        .any(|m| l.contains(m))
        {
            Stage::Preparing
        } else if ["loading model", "load_tensors", "llama_model_loader"]
            .iter()
            .any(|m| l.contains(m))
        {
            Stage::Reading
        } else {
            continue;
        };
        at = at.max(s);
    }
    at
}

/// The engine's resident memory (bytes), where this OS tells (Linux).
pub fn resident(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    resident_of(&status)
}

/// `VmRSS` of a `/proc/PID/status` text, in bytes.
pub fn resident_of(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// The status line for `stage` of loading `name` (its file `size` bytes; `resident` bytes in
/// memory so far, where known) for a conversation of `context` tokens.
pub fn describe(
    stage: Stage,
    name: &str,
    size: u64,
    resident: Option<u64>,
    context: u32,
) -> String {
    match stage {
        Stage::Starting => format!("Starting the engine for {name}…"),
        Stage::Reading => match resident {
            Some(r) if size > 0 => {
                let pct = (r.saturating_mul(100) / size).min(99);
                format!("Reading {name} into memory: {pct}% of {}…", human(size))
            }
            _ => format!("Reading {name} ({}) into memory…", human(size)),
        },
        Stage::Preparing => {
            format!("Preparing memory for a {context}-token conversation with {name}…")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn the_stage_is_the_furthest_the_log_names() {
        let cases: &[(&[&str], Stage)] = &[
            (&[], Stage::Starting),
            (
                &["[parley] started x", "srv llama_server: initializing ..."],
                Stage::Starting,
            ),
            (
                &["srv    load_model: loading model '/m.gguf'"],
                Stage::Reading,
            ),
            (&["llama_model_loader: loaded meta data"], Stage::Reading),
            (
                &[
                    "load_model: loading model 'x'",
                    "cmn init: llama threadpool init, n_threads = 2",
                ],
                Stage::Preparing,
            ),
            (&["load_model: initializing, n_slots = 1"], Stage::Preparing),
            // A later line of an earlier stage does not take it back.
            (
                &["llama_context: n_ctx = 4096", "load_tensors: done"],
                Stage::Preparing,
            ),
            (&["LOADING MODEL"], Stage::Reading),
        ];
        for (log, want) in cases {
            assert_eq!(stage(&lines(log)), *want, "{log:?}");
        }
    }

    #[test]
    fn resident_memory_is_read_from_the_status_text() {
        let cases = [
            (
                "Name:\tllama-server\nVmRSS:\t   96532 kB\nThreads:\t4\n",
                Some(96532 * 1024),
            ),
            ("VmRSS: 0 kB", Some(0)),
            ("Name: x\n", None),
            ("VmRSS: lots kB", None),
            ("", None),
        ];
        for (text, want) in cases {
            assert_eq!(resident_of(text), want, "{text:?}");
        }
    }

    #[test]
    fn each_stage_reads_as_a_sentence() {
        let mb = 1024 * 1024;
        let d = |s, r| describe(s, "Smol", 100 * mb, r, 4096);
        assert_eq!(d(Stage::Starting, None), "Starting the engine for Smol…");
        assert_eq!(
            d(Stage::Reading, None),
            "Reading Smol (100 MB) into memory…"
        );
        assert_eq!(
            d(Stage::Reading, Some(40 * mb)),
            "Reading Smol into memory: 40% of 100 MB…"
        );
        // Resident memory counts more than the file (the program, its buffers): never 100%.
        assert_eq!(
            d(Stage::Reading, Some(300 * mb)),
            "Reading Smol into memory: 99% of 100 MB…"
        );
        assert_eq!(
            d(Stage::Preparing, None),
            "Preparing memory for a 4096-token conversation with Smol…"
        );
        assert_eq!(
            describe(Stage::Reading, "E", 0, Some(5), 512),
            "Reading E (0 MB) into memory…"
        );
    }
}
