//! The glue every wire format shares, written once: where and how a provider is reached
//! ([`Endpoint`]), what a wire format must say about itself ([`WireFormat`]), and the one
//! [`ModelProvider`] built from any of them ([`Provider`]).

use super::http::{self, Framed};
use super::{ChatRequest, EventStream, HttpSettings, ModelProvider};
use crate::error::ProviderError;
use futures::future::BoxFuture;
use parley_protocol::ModelInfo;
use std::marker::PhantomData;
use tokio_util::sync::CancellationToken;

/// How a provider expects its API key.
#[derive(Debug, Clone, Copy)]
pub enum Auth {
    /// `Authorization: Bearer KEY` (OpenAI, compatible servers, Ollama behind a proxy).
    Bearer,
    /// The key in a named header (Anthropic's `x-api-key`, Gemini's `x-goog-api-key`).
    Header(&'static str),
}

/// Where and how a provider is reached: the injected HTTP client, the base URL (no trailing
/// slash), the key and how it is sent, fixed headers, and the timeouts. Every request a
/// provider makes is built here, so the key is attached in exactly one place.
#[derive(Clone)]
pub struct Endpoint {
    /// The shared client.
    pub client: reqwest::Client,
    /// Base URL, e.g. `https://api.openai.com/v1`.
    pub base_url: String,
    /// The API key, if any.
    pub api_key: Option<String>,
    /// Timeouts and retries.
    pub settings: HttpSettings,
    auth: Auth,
    headers: &'static [(&'static str, &'static str)],
}

impl Endpoint {
    /// An endpoint at `base_url` that sends its key as a bearer token.
    pub fn new(
        client: reqwest::Client,
        base_url: &str,
        api_key: Option<String>,
        settings: HttpSettings,
    ) -> Self {
        Endpoint {
            client,
            base_url: base_url.trim_end_matches('/').to_owned(),
            api_key,
            settings,
            auth: Auth::Bearer,
            headers: &[],
        }
    }

    /// Sends the key this way instead.
    pub fn with_auth(mut self, auth: Auth) -> Self {
        self.auth = auth;
        self
    }

    /// Adds these headers to every request.
    pub fn with_headers(mut self, headers: &'static [(&'static str, &'static str)]) -> Self {
        self.headers = headers;
        self
    }

    /// `{base_url}{path}`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base_url, path)
    }

    fn finish(
        rb: reqwest::RequestBuilder,
        key: Option<&str>,
        auth: Auth,
        headers: &[(&str, &str)],
    ) -> reqwest::RequestBuilder {
        let mut rb = rb;
        for (name, value) in headers {
            rb = rb.header(*name, *value);
        }
        match (key, auth) {
            (Some(k), Auth::Bearer) => rb.bearer_auth(k),
            (Some(k), Auth::Header(name)) => rb.header(name, k),
            (None, _) => rb,
        }
    }

    /// The provider's model list at `path`.
    pub async fn models(&self, path: &str) -> Result<Vec<ModelInfo>, ProviderError> {
        let rb = Self::finish(
            self.client.get(self.url(path)),
            self.api_key.as_deref(),
            self.auth,
            self.headers,
        );
        http::fetch_model_list(rb, &self.settings, self.api_key.as_deref()).await
    }

    /// A POST to `url` (already joined to the base URL) asking for `accept`, key and headers
    /// attached.
    fn post(&self, url: &str, accept: &str) -> reqwest::RequestBuilder {
        let rb = self
            .client
            .post(url)
            .header(reqwest::header::ACCEPT, accept);
        Self::finish(rb, self.api_key.as_deref(), self.auth, self.headers)
    }
}

/// What differs between wire formats. Everything else — the key, the headers, retries, the
/// idle timeout, cancellation — is [`Provider`]'s, the same for all of them.
pub trait WireFormat: Send + Sync + 'static {
    /// Frames the streamed body (SSE or NDJSON) and maps its events.
    type Framed: Framed + Default;
    /// Where the model list is.
    const MODELS_PATH: &'static str = "/models";
    /// What the streamed response is sent as.
    const ACCEPT: &'static str = "text/event-stream";
    /// How the key is sent and which headers go with every request.
    fn endpoint(ep: Endpoint) -> Endpoint {
        ep
    }
    /// Where a streamed answer is asked for (a path under the base URL).
    fn stream_path(request: &ChatRequest) -> String;
    /// The request body: a typed structure borrowing from the request, written straight into
    /// the HTTP request (each try writes it again).
    fn body(request: &ChatRequest) -> impl serde::Serialize + '_;
}

/// A provider speaking wire format `W`.
pub struct Provider<W> {
    ep: Endpoint,
    wire: PhantomData<W>,
}

impl<W: WireFormat> Provider<W> {
    /// A provider at `base_url` (no trailing slash needed), with an optional key.
    pub fn new(
        client: reqwest::Client,
        base_url: &str,
        api_key: Option<String>,
        settings: HttpSettings,
    ) -> Self {
        Provider {
            ep: W::endpoint(Endpoint::new(client, base_url, api_key, settings)),
            wire: PhantomData,
        }
    }
}

impl<W: WireFormat> ModelProvider for Provider<W> {
    fn models(&self) -> BoxFuture<'_, Result<Vec<ModelInfo>, ProviderError>> {
        Box::pin(self.ep.models(W::MODELS_PATH))
    }

    fn stream(&self, request: ChatRequest, cancel: CancellationToken) -> EventStream {
        let ep = self.ep.clone();
        let url = ep.url(&W::stream_path(&request));
        let build = Box::new(move || ep.post(&url, W::ACCEPT).json(&W::body(&request)));
        http::drive(
            build,
            W::Framed::default(),
            self.ep.settings.clone(),
            cancel,
            self.ep.api_key.clone(),
        )
    }
}

/// Builds the provider for a wire format.
pub fn for_kind(
    kind: parley_protocol::ProviderKind,
    client: reqwest::Client,
    base_url: &str,
    api_key: Option<String>,
    settings: HttpSettings,
) -> std::sync::Arc<dyn ModelProvider> {
    use super::{anthropic, gemini, ollama, openai_chat, openai_responses};
    use parley_protocol::ProviderKind;
    use std::sync::Arc;
    let (c, u, k, s) = (client, base_url, api_key, settings);
    match kind {
        ProviderKind::Openai | ProviderKind::OpenaiCompatible => {
            Arc::new(openai_chat::OpenAiChat::new(c, u, k, s))
        }
        ProviderKind::OpenaiResponses => {
            Arc::new(openai_responses::OpenAiResponses::new(c, u, k, s))
        }
        ProviderKind::Anthropic => Arc::new(anthropic::Anthropic::new(c, u, k, s)),
        ProviderKind::Gemini => Arc::new(gemini::Gemini::new(c, u, k, s)),
        ProviderKind::Ollama => Arc::new(ollama::Ollama::new(c, u, k, s)),
    }
}
