//! The built-in engine: one llama-server at a time, started on demand with the model asked for,
//! kept while it is used, unloaded after the idle time, restarted with backoff after a crash,
//! stopped when Parley quits. Requests hold a [`Lease`] while they stream: the idle clock runs
//! only when none does.

use super::spawn::{self, Child, Launch};
use super::{loading, port};
use crate::proclog::ProcLog;
use crate::util::{lock, now_ms};
use parley_protocol::{EngineState, EngineStatus};
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// How long a model may take to load before the start is given up.
const LOAD_TIMEOUT: Duration = Duration::from_secs(300);
/// How often the idle clock and the process are looked at.
const TICK: Duration = Duration::from_millis(500);
/// Crashes closer together than this count towards the backoff.
const CRASH_WINDOW: Duration = Duration::from_secs(120);
/// The longest wait before a restart after crashes.
const BACKOFF_MAX: Duration = Duration::from_secs(30);
/// Starts tried when the port is taken meanwhile.
const PORT_TRIES: usize = 3;

/// Where a started engine answers, held while a request uses it.
pub struct Lease {
    pub base_url: String,
    pub key: String,
    /// Which start of the engine this is (a crash makes a new one).
    pub run: u64,
    _hold: Hold,
}

/// Counts a request in while it lives; its end restarts the idle clock.
struct Hold(Arc<Shared>);

impl Drop for Hold {
    fn drop(&mut self) {
        *lock(&self.0.last_used) = Instant::now();
        self.0.leases.fetch_sub(1, Ordering::SeqCst);
    }
}

struct Running {
    child: Child,
    launch: Launch,
    port: u16,
    key: String,
    run: u64,
}

/// What the idle watcher and the leases share with the engine.
struct Shared {
    leases: AtomicUsize,
    last_used: Mutex<Instant>,
    idle_secs: AtomicU32,
    status: Mutex<EngineStatus>,
    crashes: Mutex<Vec<Instant>>,
}

/// The engine and its state.
pub struct Engine {
    slot: tokio::sync::Mutex<Option<Running>>,
    shared: Arc<Shared>,
    pub log: Arc<ProcLog>,
    process_log: PathBuf,
    client: reqwest::Client,
    runs: AtomicU32,
    watching: std::sync::Once,
}

impl Engine {
    pub fn new(process_log: PathBuf, client: reqwest::Client, idle_secs: u32) -> Engine {
        Engine {
            slot: tokio::sync::Mutex::new(None),
            shared: Arc::new(Shared {
                leases: AtomicUsize::new(0),
                last_used: Mutex::new(Instant::now()),
                idle_secs: AtomicU32::new(idle_secs),
                status: Mutex::new(status(EngineState::Stopped, None, None)),
                crashes: Mutex::new(Vec::new()),
            }),
            log: Arc::new(ProcLog::default()),
            process_log,
            client,
            runs: AtomicU32::new(0),
            watching: std::sync::Once::new(),
        }
    }

    /// The engine's state now.
    pub fn status(&self) -> EngineStatus {
        let mut s = lock(&self.shared.status).clone();
        s.idle_seconds = self.shared.idle_secs.load(Ordering::SeqCst);
        s
    }

    pub fn set_idle(&self, secs: u32) {
        self.shared.idle_secs.store(secs, Ordering::SeqCst);
    }

    fn set(&self, state: EngineState, model: Option<&str>, message: Option<String>) {
        *lock(&self.shared.status) = status(state, model.map(str::to_owned), message);
    }

    /// The engine serving `launch`, started (and its model loaded) when it is not; `cancel`
    /// gives up a start (the process is ended).
    pub async fn serve(
        self: &Arc<Self>,
        launch: Launch,
        cancel: &CancellationToken,
    ) -> Result<Lease, String> {
        self.watch();
        let mut slot = self.slot.lock().await;
        if let Some(r) = slot.as_mut() {
            if r.launch == launch && alive(&mut r.child) {
                return Ok(self.lease(r));
            }
        }
        if slot.is_some() {
            // Another model (or other settings): the answers still streaming from this run
            // finish first; then it ends.
            self.drain(cancel).await?;
        }
        if let Some(r) = slot.take() {
            self.end(r, "switching models").await;
        }
        self.backoff(cancel).await?;
        let running = self.start(launch, cancel).await?;
        Ok(self.lease(slot.insert(running)))
    }

    fn lease(&self, r: &Running) -> Lease {
        self.shared.leases.fetch_add(1, Ordering::SeqCst);
        Lease {
            base_url: format!("http://127.0.0.1:{}/v1", r.port),
            key: r.key.clone(),
            run: r.run,
            _hold: Hold(self.shared.clone()),
        }
    }

    /// Waits until no request streams from the running engine (or `cancel`).
    async fn drain(&self, cancel: &CancellationToken) -> Result<(), String> {
        while self.shared.leases.load(Ordering::SeqCst) > 0 {
            tokio::select! {
                () = cancel.cancelled() => return Err(STOPPED.into()),
                () = tokio::time::sleep(Duration::from_millis(50)) => {}
            }
        }
        Ok(())
    }

    /// Whether the run `run` is over (crashed, stopped, replaced). Never waits for the slot:
    /// a start or a switch holding it (a switch waits for the streaming requests, one of which
    /// may be asking this) counts as not over; the caller asks again.
    pub async fn is_over(&self, run: u64) -> bool {
        let Ok(mut slot) = self.slot.try_lock() else {
            return false;
        };
        match slot.as_mut() {
            Some(r) => r.run != run || !alive(&mut r.child),
            None => true,
        }
    }

    /// Waits before a start after recent crashes: 1 s after the second, doubling, at most
    /// BACKOFF_MAX. A first start, or one after a calm spell, does not wait.
    async fn backoff(&self, cancel: &CancellationToken) -> Result<(), String> {
        let recent = {
            let mut c = lock(&self.shared.crashes);
            c.retain(|t| t.elapsed() < CRASH_WINDOW);
            c.len() as u32
        };
        if recent < 2 {
            return Ok(());
        }
        let wait = Duration::from_secs(1u64 << (recent - 2).min(5)).min(BACKOFF_MAX);
        self.log.note(&format!(
            "{recent} crashes in the last two minutes: waiting {} s before starting again",
            wait.as_secs()
        ));
        tokio::select! {
            () = cancel.cancelled() => Err(STOPPED.into()),
            () = tokio::time::sleep(wait) => Ok(()),
        }
    }

    /// Starts the engine for `launch` and waits until its model is loaded; a port taken meanwhile
    /// is another port tried.
    async fn start(&self, launch: Launch, cancel: &CancellationToken) -> Result<Running, String> {
        self.set(
            EngineState::Loading,
            Some(&launch.name),
            Some(format!("Loading {}…", launch.name)),
        );
        let mut last = String::new();
        for _ in 0..PORT_TRIES {
            let port =
                spawn::free_port().map_err(|e| format!("no free port on this computer: {e}"))?;
            let key = spawn::new_key()?;
            let child = spawn::start(&launch, port, &key, &self.log, &self.process_log)
                .inspect_err(|e| {
                    self.set(EngineState::Failed, Some(&launch.name), Some(e.clone()))
                })?;
            let run = u64::from(self.runs.fetch_add(1, Ordering::SeqCst)) + 1;
            let mut r = Running {
                child,
                launch: launch.clone(),
                port,
                key,
                run,
            };
            match self.ready(&mut r, cancel).await {
                Ok(()) => {
                    self.log.note(&format!("{} is loaded", launch.name));
                    self.set(EngineState::Ready, Some(&launch.name), None);
                    *lock(&self.shared.last_used) = Instant::now();
                    return Ok(r);
                }
                Err(Failed::PortTaken) => {
                    self.log
                        .note(&format!("port {port} was taken: trying another"));
                    spawn::stop(r.child).await;
                    last = format!("port {port} was taken");
                }
                Err(Failed::Stopped) => {
                    spawn::stop(r.child).await;
                    self.log.note("the start was stopped");
                    self.set(EngineState::Stopped, None, None);
                    return Err(STOPPED.into());
                }
                Err(Failed::Other(why)) => {
                    spawn::stop(r.child).await;
                    lock(&self.shared.crashes).push(Instant::now());
                    self.set(EngineState::Failed, Some(&launch.name), Some(why.clone()));
                    return Err(why);
                }
            }
        }
        let why = format!("The built-in engine could not get a port on this computer ({last}).");
        self.set(EngineState::Failed, Some(&launch.name), Some(why.clone()));
        Err(why)
    }

    /// Waits for the engine's health check to pass (its model loaded); fails with its own last
    /// words when it exits first.
    async fn ready(&self, r: &mut Running, cancel: &CancellationToken) -> Result<(), Failed> {
        let url = format!("http://127.0.0.1:{}/health", r.port);
        let started = Instant::now();
        let deadline = started + LOAD_TIMEOUT;
        let size = std::fs::metadata(&r.launch.model).map_or(0, |m| m.len());
        loop {
            if let Ok(Some(status)) = r.child.process.try_wait() {
                // Its last lines are read before they are quoted.
                tokio::time::sleep(Duration::from_millis(200)).await;
                return Err(self.exited(status));
            }
            let healthy = self
                .client
                .get(&url)
                .timeout(Duration::from_secs(2))
                .send()
                .await;
            if healthy.is_ok_and(|h| h.status().is_success()) && alive(&mut r.child) {
                return self.genuine(r).await;
            }
            if Instant::now() > deadline {
                return Err(Failed::Other(format!(
                    "The built-in engine did not finish loading {} within {} minutes.",
                    r.launch.name,
                    LOAD_TIMEOUT.as_secs() / 60
                )));
            }
            self.progress(r, size);
            tokio::select! {
                () = cancel.cancelled() => return Err(Failed::Stopped),
                () = tokio::time::sleep(poll_after(started.elapsed())) => {}
            }
        }
    }

    /// The status line while `r` loads its model (`size` bytes), from what the engine has said
    /// since it was started; the state's start time kept.
    fn progress(&self, r: &mut Running, size: u64) {
        let tail = self.log.tail(200);
        let from = tail
            .iter()
            .rposition(|l| l.starts_with("[parley] started"))
            .unwrap_or(0);
        let stage = loading::stage(&tail[from..]);
        let resident = r.child.process.id().and_then(loading::resident);
        let line = loading::describe(stage, &r.launch.name, size, resident, r.launch.context);
        let mut s = lock(&self.shared.status);
        if s.state == EngineState::Loading {
            s.message = Some(line);
        }
    }

    /// Whether what passed the health check is this engine, before anything is sent with its
    /// key (`port`): if another program took the port meanwhile, it is left alone and another
    /// port is tried.
    async fn genuine(&self, r: &mut Running) -> Result<(), Failed> {
        let group = r.child.process.id();
        match group.and_then(|g| port::group_listens(g, r.port)) {
            Some(true) => return Ok(()),
            Some(false) => return Err(Failed::PortTaken),
            None => {}
        }
        match port::refuses_wrong_key(&self.client, r.port).await {
            Ok(true) => Ok(()),
            Ok(false) => Err(Failed::PortTaken),
            Err(e) => Err(Failed::Other(format!(
                "The built-in engine passed its health check, then did not answer on its port: {e}"
            ))),
        }
    }

    /// Why the engine exited during its start, from its last lines.
    fn exited(&self, status: std::process::ExitStatus) -> Failed {
        let tail = self.log.tail(12);
        let said = tail.join("\n").to_lowercase();
        if said.contains("couldn't bind") || said.contains("address already in use") {
            return Failed::PortTaken;
        }
        let last = tail
            .iter()
            .rev()
            .find(|l| !l.starts_with("[parley]") && !l.trim().is_empty())
            .cloned()
            .unwrap_or_default();
        self.log
            .note(&format!("the engine exited during its start ({status})"));
        Failed::Other(format!(
            "The built-in engine stopped while loading the model ({status}). Its last words: {last}"
        ))
    }

    /// Ends the running engine, if any (Parley quits; the user stopped it).
    pub async fn stop(&self, why: &str) {
        if let Some(r) = self.slot.lock().await.take() {
            self.end(r, why).await;
        }
    }

    async fn end(&self, r: Running, why: &str) {
        self.log.note(&format!("stopping the engine ({why})"));
        spawn::stop(r.child).await;
        self.set(EngineState::Stopped, None, None);
    }

    /// Starts the watcher once: it unloads the model after the idle time and notices a crash.
    fn watch(self: &Arc<Self>) {
        let weak = Arc::downgrade(self);
        self.watching.call_once(move || {
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(TICK).await;
                    let Some(engine) = weak.upgrade() else { return };
                    engine.tick().await;
                }
            });
        });
    }

    async fn tick(&self) {
        let Ok(mut slot) = self.slot.try_lock() else {
            return; // a start or a stop is under way
        };
        let Some(r) = slot.as_mut() else { return };
        if let Ok(Some(status)) = r.child.process.try_wait() {
            let name = r.launch.name.clone();
            if let Some(r) = slot.take() {
                spawn::stop(r.child).await;
            }
            lock(&self.shared.crashes).push(Instant::now());
            self.log
                .note(&format!("the engine exited unexpectedly ({status})"));
            self.set(
                EngineState::Failed,
                Some(&name),
                Some(format!("The built-in engine stopped unexpectedly ({status}); it starts again with the next message.")),
            );
            return;
        }
        let idle = self.shared.idle_secs.load(Ordering::SeqCst);
        let quiet = lock(&self.shared.last_used).elapsed();
        if idle > 0
            && self.shared.leases.load(Ordering::SeqCst) == 0
            && quiet >= Duration::from_secs(idle.into())
        {
            if let Some(r) = slot.take() {
                self.end(r, &format!("unused for {} s", quiet.as_secs()))
                    .await;
            }
        }
    }
}

/// What a start that failed ran into.
enum Failed {
    PortTaken,
    Stopped,
    Other(String),
}

const STOPPED: &str = "Stopped before the model was loaded.";

/// How long to wait before asking the engine again whether its model is loaded, `elapsed`
/// into its start: often at first (a small model loads in half a second, and each poll missed
/// is time added to the first answer), then less often (a large one takes a minute).
fn poll_after(elapsed: Duration) -> Duration {
    if elapsed < Duration::from_secs(3) {
        Duration::from_millis(15)
    } else {
        Duration::from_millis(100)
    }
}

fn alive(child: &mut Child) -> bool {
    matches!(child.process.try_wait(), Ok(None))
}

fn status(state: EngineState, model: Option<String>, message: Option<String>) -> EngineStatus {
    EngineStatus {
        state,
        model,
        binary: None,
        message,
        since: now_ms(),
        idle_seconds: 0,
    }
}
