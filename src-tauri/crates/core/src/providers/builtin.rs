//! The built-in engine as a provider ("On this computer (built in)"): its models are the
//! installed local models; each request asks the engine (the `models` topic, behind
//! [`LocalEngine`], set by the wiring) for the address and key of a run serving the model —
//! started and loaded when needed — and streams from it as from any OpenAI-compatible server.
//! A run that ends mid-answer (the engine crashed or was killed) ends the answer with a sentence
//! saying so; the next message starts the engine again.

use super::{ChatRequest, EventStream, ModelProvider};
use crate::error::{ProviderError, ProviderErrorKind};
use crate::net::HttpSettings;
use futures::future::BoxFuture;
use futures::StreamExt;
use parley_protocol::{ModelInfo, ProviderKind};
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// A run of the engine serving a model, held while a request uses it.
pub struct Served {
    pub base_url: String,
    pub key: String,
    /// Which run (to tell whether it ended).
    pub run: u64,
    /// Keeps the run counted as in use while it lives.
    pub hold: Box<dyn Send + Sync>,
}

/// What the providers need of the built-in engine.
pub trait LocalEngine: Send + Sync {
    /// The installed models.
    fn models(&self) -> BoxFuture<'_, Result<Vec<ModelInfo>, ProviderError>>;
    /// A run serving `model`, started when needed; `cancel` gives up a start.
    fn serve<'a>(
        &'a self,
        model: &'a str,
        cancel: &'a CancellationToken,
    ) -> BoxFuture<'a, Result<Served, ProviderError>>;
    /// Whether run `run` ended.
    fn is_over(&self, run: u64) -> BoxFuture<'_, bool>;
}

/// The provider over the engine.
pub struct Builtin {
    pub engine: Arc<dyn LocalEngine>,
    pub client: reqwest::Client,
    pub http: HttpSettings,
}

impl ModelProvider for Builtin {
    fn models(&self) -> BoxFuture<'_, Result<Vec<ModelInfo>, ProviderError>> {
        self.engine.models()
    }

    fn stream(&self, request: ChatRequest, cancel: CancellationToken) -> EventStream {
        let engine = self.engine.clone();
        let (client, mut http) = (self.client.clone(), self.http.clone());
        // No second try at the same port: if the engine ended meanwhile, another program may
        // hold its port by then. The next message starts the engine again, checked again.
        http.max_attempts = 1;
        let started = async move {
            let served = match engine.serve(&request.model, &cancel).await {
                Ok(s) => s,
                Err(e) if cancel.is_cancelled() => {
                    let _ = e;
                    return futures::stream::empty().boxed();
                }
                Err(e) => return futures::stream::once(async move { Err(e) }).boxed(),
            };
            let inner = super::for_kind(
                ProviderKind::OpenaiCompatible,
                client,
                &served.base_url,
                Some(served.key.clone()),
                http,
            );
            let run = served.run;
            let hold = served.hold;
            inner
                .stream(request, cancel)
                .then(move |item| {
                    let engine = engine.clone();
                    let _held = &hold;
                    async move { crashed(item, &*engine, run).await }
                })
                .boxed()
        };
        futures::stream::once(started).flatten().boxed()
    }
}

/// Whether run `run` has ended, given a moment: a process killed just now may not be reaped
/// yet when its connection breaks.
async fn ended(engine: &dyn LocalEngine, run: u64) -> bool {
    for _ in 0..10 {
        if engine.is_over(run).await {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    false
}

/// A stream error while the run has ended: said as the engine stopping, not as a network fault.
async fn crashed(
    item: Result<super::StreamEvent, ProviderError>,
    engine: &dyn LocalEngine,
    run: u64,
) -> Result<super::StreamEvent, ProviderError> {
    match item {
        Err(e) if e.kind != ProviderErrorKind::Engine && ended(engine, run).await => {
            Err(ProviderError::new(
                ProviderErrorKind::Engine,
                "The built-in engine stopped in the middle of the answer (it crashed or was ended); what arrived is kept. Send again to start it again.",
            ))
        }
        other => other,
    }
}
