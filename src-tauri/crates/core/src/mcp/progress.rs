//! Progress of running calls: the server's progress notifications for a call reach its running
//! card (through the turn's reporter). rmcp gives every request a progress token of its own
//! choosing, so each call marks its request (`MARK` in `_meta`) and the transport tap
//! (`Tapped`) learns which token the call went out with, and takes the mark off before the
//! server sees it.
//! A server that floods notifications is thinned to one report per PACE per call (the last
//! one, at the whole, always goes through); a token Parley did not give is ignored.

use rmcp::model::{ClientRequest, JsonRpcMessage, NumberOrString, ProgressToken};
use rmcp::service::{RxJsonRpcMessage, TxJsonRpcMessage};
use rmcp::transport::Transport;
use rmcp::RoleClient;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The `_meta` key a call marks its request with (taken off by the tap).
pub const MARK: &str = "dev.parley/call";

/// The least time between two reports of one call.
pub const PACE: Duration = Duration::from_millis(100);
/// The most characters of a progress message shown.
const MESSAGE_MAX: usize = 300;

/// Where one call's progress goes: how far, of how much, and what it is doing.
pub type Reporter = Arc<dyn Fn(f64, Option<f64>, Option<String>) + Send + Sync>;

/// A running call's side: where its progress goes, and the chat's model (for a sampling
/// request that comes while it runs).
#[derive(Clone, Default)]
pub struct Caller {
    pub report: Option<Reporter>,
    pub model: Option<(String, String)>,
}

/// A running call: its side, when it last reported, when it started (a count), and whether its
/// report of the whole went through.
type Running = (Caller, Option<Instant>, u64, bool);

/// The running calls of one connection, by mark.
#[derive(Default)]
pub struct Progress {
    calls: Mutex<HashMap<String, Running>>,
    started: std::sync::atomic::AtomicU64,
    /// The progress token each marked request went out with → the call's mark.
    tokens: Mutex<HashMap<String, String>>,
}

/// A progress token as text.
pub fn token_text(t: &ProgressToken) -> String {
    match &t.0 {
        NumberOrString::String(s) => s.to_string(),
        NumberOrString::Number(n) => n.to_string(),
    }
}

impl Progress {
    /// Listens for the progress of the call marked `token`, until `forget`.
    pub fn watch(&self, token: &str, caller: Caller) {
        let n = self
            .started
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        crate::util::lock(&self.calls).insert(token.to_owned(), (caller, None, n, false));
    }

    /// Whether a call of this connection is running.
    pub fn running(&self) -> bool {
        !crate::util::lock(&self.calls).is_empty()
    }

    /// The chat model of the call started last that has one (a server's sampling request
    /// cannot say which call it came for).
    pub fn latest_model(&self) -> Option<(String, String)> {
        crate::util::lock(&self.calls)
            .values()
            .filter_map(|(c, _, n, _)| c.model.clone().map(|m| (*n, m)))
            .max_by_key(|(n, _)| *n)
            .map(|(_, m)| m)
    }

    pub fn forget(&self, token: &str) {
        crate::util::lock(&self.calls).remove(token);
        crate::util::lock(&self.tokens).retain(|_, mark| mark != token);
    }

    /// A request marked `mark` went out with progress token `sent`.
    fn sent(&self, sent: String, mark: String) {
        if crate::util::lock(&self.calls).contains_key(&mark) {
            crate::util::lock(&self.tokens).insert(sent, mark);
        }
    }

    /// Takes the mark off an outgoing call and learns its progress token.
    fn tap(&self, item: &mut TxJsonRpcMessage<RoleClient>) {
        use rmcp::model::GetMeta;
        let JsonRpcMessage::Request(r) = item else {
            return;
        };
        // rmcp keeps the token it chose with the request; the mark is in the call's `_meta`.
        let sent = r.request.get_meta().get_progress_token();
        let ClientRequest::CallToolRequest(call) = &mut r.request else {
            return;
        };
        let Some(meta) = call.params.meta.as_mut() else {
            return;
        };
        let mark = meta.0 .0.remove(MARK);
        if meta.0 .0.is_empty() {
            call.params.meta = None;
        }
        if let (Some(serde_json::Value::String(mark)), Some(t)) = (mark, sent) {
            self.sent(token_text(&t), mark);
        }
    }

    /// A server's report for `token`: passed on unless the last one was less than PACE ago.
    pub fn report(&self, token: &str, progress: f64, total: Option<f64>, message: Option<String>) {
        if !progress.is_finite() {
            return;
        }
        let total = total.filter(|t| t.is_finite() && *t > 0.0);
        let Some(mark) = crate::util::lock(&self.tokens).get(token).cloned() else {
            return;
        };
        let report = {
            let mut calls = crate::util::lock(&self.calls);
            let Some((
                Caller {
                    report: Some(report),
                    ..
                },
                last,
                _,
                whole,
            )) = calls.get_mut(&mark)
            else {
                return;
            };
            // The report of the whole goes through once; every other waits its pace.
            let done = total.is_some_and(|t| progress >= t) && !*whole;
            if !done && last.is_some_and(|l| l.elapsed() < PACE) {
                return;
            }
            *whole |= done;
            *last = Some(Instant::now());
            report.clone()
        };
        let message = message.map(|m| m.chars().take(MESSAGE_MAX).collect());
        report(progress, total, message);
    }
}

/// A transport whose outgoing calls are tapped for their progress token.
pub struct Tapped<T> {
    pub inner: T,
    pub progress: Arc<Progress>,
}

impl<T: Transport<RoleClient>> Transport<RoleClient> for Tapped<T> {
    type Error = T::Error;

    fn send(
        &mut self,
        mut item: TxJsonRpcMessage<RoleClient>,
    ) -> impl std::future::Future<Output = Result<(), Self::Error>> + Send + 'static {
        self.progress.tap(&mut item);
        self.inner.send(item)
    }

    fn receive(
        &mut self,
    ) -> impl std::future::Future<Output = Option<RxJsonRpcMessage<RoleClient>>> + Send {
        self.inner.receive()
    }

    fn close(&mut self) -> impl std::future::Future<Output = Result<(), Self::Error>> + Send {
        self.inner.close()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flood_is_thinned_and_unknown_tokens_are_ignored() {
        let p = Progress::default();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let s = seen.clone();
        p.watch(
            "t",
            Caller {
                report: Some(Arc::new(move |x, total, m| {
                    s.lock().unwrap().push((x, total, m))
                })),
                model: None,
            },
        );
        p.sent("7".into(), "t".into());
        p.sent("8".into(), "not watched".into());
        assert_eq!(crate::util::lock(&p.tokens).len(), 1);
        let started = Instant::now();
        for i in 0..1000 {
            p.report("7", f64::from(i), Some(1000.0), Some("x".repeat(1000)));
        }
        p.report("7", 1000.0, Some(1000.0), None);
        // A flood of reports at the whole: one goes through.
        for _ in 0..1000 {
            p.report("7", 1000.0, Some(1000.0), None);
        }
        p.report("t", 1.0, None, None);
        p.report("8", 1.0, None, None);
        p.report("7", f64::NAN, None, None);
        let count = {
            let seen = seen.lock().unwrap();
            // One report per PACE at most, and the last one.
            let most = 2 + started.elapsed().as_millis() / PACE.as_millis();
            assert!(seen.len() as u128 <= most, "{} > {most}", seen.len());
            assert_eq!(seen[0].0, 0.0);
            assert_eq!(seen[0].2.as_ref().unwrap().chars().count(), MESSAGE_MAX);
            assert_eq!(
                seen.last().unwrap().0,
                1000.0,
                "the whole always goes through"
            );
            seen.len()
        };
        p.forget("t");
        assert!(crate::util::lock(&p.tokens).is_empty());
        std::thread::sleep(PACE);
        p.report("7", 5.0, None, None);
        assert_eq!(seen.lock().unwrap().len(), count, "forgotten: nothing more");
    }

    #[test]
    fn a_sampling_request_uses_the_model_of_the_call_started_last() {
        let p = Progress::default();
        let with = |m: &str| Caller {
            report: None,
            model: Some(("local".into(), m.into())),
        };
        assert_eq!(p.latest_model(), None);
        p.watch("a", with("first"));
        p.watch("b", Caller::default());
        p.watch("c", with("second"));
        assert_eq!(p.latest_model().unwrap().1, "second");
        p.forget("c");
        assert_eq!(p.latest_model().unwrap().1, "first");
    }
}
