//! The order calls of one model response run in (STYLE.md §8): read-only calls overlap; a call
//! that can change anything runs alone, after every call before it and before every call after
//! it — so mutating calls run one at a time, in the order the model made them, and a read
//! that follows a write sees it. Tickets are taken in call order when the calls are dispatched;
//! a call that ends without running (denied, cancelled) releases its place at once.

use futures::future::{BoxFuture, FutureExt, Shared};
use tokio::sync::oneshot;

type Done = Shared<BoxFuture<'static, ()>>;

/// Hands out places in the order.
#[derive(Default)]
pub struct Scheduler {
    /// The last exclusive call.
    exclusive: Option<Done>,
    /// Read-only calls since then.
    readers: Vec<Done>,
}

/// One call's place: wait on [`Ticket::ready`], run, then drop the ticket.
pub struct Ticket {
    wait: BoxFuture<'static, ()>,
    _done: oneshot::Sender<()>,
}

impl Ticket {
    /// Resolves when the calls this one must follow have finished.
    pub async fn ready(&mut self) {
        (&mut self.wait).await
    }
}

impl Scheduler {
    /// An empty order.
    pub fn new() -> Self {
        Self::default()
    }

    /// The next call's place; `exclusive` for anything that is not read-only.
    pub fn ticket(&mut self, exclusive: bool) -> Ticket {
        let (tx, rx) = oneshot::channel::<()>();
        let done: Done = rx.map(|_| ()).boxed().shared();
        let wait: BoxFuture<'static, ()> = if exclusive {
            let mut before: Vec<Done> = std::mem::take(&mut self.readers);
            before.extend(self.exclusive.replace(done));
            futures::future::join_all(before).map(|_| ()).boxed()
        } else {
            let before = self.exclusive.clone();
            self.readers.push(done);
            async move {
                if let Some(b) = before {
                    b.await;
                }
            }
            .boxed()
        };
        Ticket { wait, _done: tx }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    #[tokio::test]
    async fn reads_overlap_writes_run_alone_in_order() {
        let log = Arc::new(Mutex::new(Vec::<String>::new()));
        let mut s = Scheduler::new();
        // r1 r2 | w3 | r4 w5 — in call order, w3 waits for r1, r2; r4 waits for w3; w5 for r4.
        let plan = [
            ("r1", false, 60),
            ("r2", false, 30),
            ("w3", true, 20),
            ("r4", false, 10),
            ("w5", true, 5),
        ];
        let mut handles = Vec::new();
        for (name, ex, ms) in plan {
            let mut t = s.ticket(ex);
            let log = log.clone();
            handles.push(tokio::spawn(async move {
                t.ready().await;
                log.lock().unwrap().push(format!("start {name}"));
                tokio::time::sleep(Duration::from_millis(ms)).await;
                log.lock().unwrap().push(format!("end {name}"));
                drop(t);
            }));
        }
        // Spawn order must not matter: tasks are polled in any order.
        for h in handles.into_iter().rev() {
            h.await.unwrap();
        }
        let log = log.lock().unwrap().clone();
        let pos = |e: &str| log.iter().position(|l| l == e).unwrap();
        assert!(pos("start r2") < pos("end r1"), "reads overlap: {log:?}");
        assert!(pos("start w3") > pos("end r1") && pos("start w3") > pos("end r2"));
        assert!(pos("start r4") > pos("end w3"));
        assert!(pos("start w5") > pos("end r4") && pos("start w5") > pos("end w3"));
    }

    #[tokio::test]
    async fn a_call_that_never_runs_releases_its_place() {
        let mut s = Scheduler::new();
        let w1 = s.ticket(true);
        let mut w2 = s.ticket(true);
        drop(w1); // denied
        tokio::time::timeout(Duration::from_secs(1), w2.ready())
            .await
            .unwrap();
    }
}
