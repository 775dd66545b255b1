//! What a server may ask Parley, and what it tells it: roots (the chat's workspace), what it
//! asks the person (`asks`), its progress reports (`progress`), its log lines, and that its
//! tools changed.

// Roots and logging are deprecated by the 2026 revision (SEP-2577) and still spoken by every
// server of the handshake era: Parley answers both.
#![allow(deprecated)]

use super::asks::{self, Answer, AskKind, Asks};
use crate::proclog::ProcLog as ServerLog;
use rmcp::model::{
    ClientCapabilities, ClientConfig, CreateMessageRequestParams, CreateMessageResult,
    ElicitRequestParams, ElicitResult, ElicitationAction, ElicitationCapability,
    FormElicitationCapability, Implementation, ListRootsResult, LoggingMessageNotificationParam,
    ProtocolVersion, Root, RootsCapabilities, SamplingCapability, SamplingMessage,
    UrlElicitationCapability,
};
use rmcp::service::{NotificationContext, RequestContext};
use rmcp::{ClientHandler, ErrorData as McpError, RoleClient};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// What a server may ask Parley, and what it tells it.
#[derive(Clone)]
pub struct Handler {
    /// The workspace folders a server may see (`roots/list`), as file:// URIs.
    pub roots: Arc<Vec<String>>,
    pub log: Arc<ServerLog>,
    /// Set when the server says its tools changed (they are listed again at the next use).
    pub tools_changed: Arc<AtomicBool>,
    /// The server's name, shown with what it asks.
    pub server: String,
    /// Where what it asks the person waits for an answer.
    pub asks: Arc<Asks>,
    /// The running calls that listen for progress.
    pub progress: Arc<super::progress::Progress>,
    /// What it asks the model goes through here (when allowed).
    pub sampler: Arc<super::sampling::Sampler>,
    /// Set while one of its questions waits: a server asks one thing at a time.
    pub asking: Arc<AtomicBool>,
}

/// Clears `asking` when the question is over.
struct Asking<'a>(&'a AtomicBool);

impl Drop for Asking<'_> {
    fn drop(&mut self) {
        self.0.store(false, Ordering::SeqCst);
    }
}

impl Handler {
    /// Why the server may not ask now: none of its calls is running (a question comes from a
    /// call), or another of its questions still waits (one at a time).
    fn may_not_ask(&self) -> Option<&'static str> {
        if !self.progress.running() {
            return Some("none of its calls is running");
        }
        if self.asking.swap(true, Ordering::SeqCst) {
            return Some("another of its questions still waits");
        }
        None
    }
}

impl Handler {
    /// What the server asks, as Parley can show it; `None` (declined) when it cannot.
    fn ask_of(&self, request: ElicitRequestParams) -> Option<(String, AskKind)> {
        match request {
            ElicitRequestParams::FormElicitationParams {
                message,
                requested_schema,
                ..
            } => {
                let schema = serde_json::to_value(&requested_schema).ok()?;
                match super::form::fields(&schema) {
                    Ok(fields) => Some((message, AskKind::Form { fields })),
                    Err(why) => {
                        self.log
                            .note(&format!("a form it asked for was declined: {why}"));
                        None
                    }
                }
            }
            ElicitRequestParams::UrlElicitationParams { message, url, .. } => {
                if asks::openable(&url) {
                    Some((message, AskKind::Url { url }))
                } else {
                    self.log.note(&format!(
                        "an address it asked to open was declined (not http or https): {}",
                        parley_protocol::visible::mark_hidden(&url)
                    ));
                    None
                }
            }
            _ => None,
        }
    }
}

impl ClientHandler for Handler {
    fn get_info(&self) -> ClientConfig {
        let mut roots = RootsCapabilities::default();
        roots.list_changed = Some(true);
        let mut caps = ClientCapabilities::default();
        caps.roots = Some(roots);
        caps.sampling = Some(SamplingCapability::default());
        caps.elicitation = Some(
            ElicitationCapability::new()
                .with_form(FormElicitationCapability::default())
                .with_url(UrlElicitationCapability::default()),
        );
        ClientConfig::new(
            caps,
            Implementation::new("parley", env!("CARGO_PKG_VERSION")),
        )
        .with_protocol_version(ProtocolVersion::LATEST_WITH_INITIALIZE)
    }

    async fn list_roots(
        &self,
        _c: RequestContext<RoleClient>,
    ) -> Result<ListRootsResult, McpError> {
        Ok(ListRootsResult::new(
            self.roots.iter().map(|u| Root::new(u.clone())).collect(),
        ))
    }

    async fn create_message(
        &self,
        params: CreateMessageRequestParams,
        _c: RequestContext<RoleClient>,
    ) -> Result<CreateMessageResult, McpError> {
        let refuse = |why: &str| {
            self.log
                .note(&format!("it asked the model; declined: {why}"));
            Err(McpError::new(
                rmcp::model::ErrorCode(-1),
                format!("The user declined: {why}."),
                None,
            ))
        };
        if !self.sampler.allowed().await {
            return refuse("MCP servers may not ask the model (Parley's settings)");
        }
        let Some(model) = self.progress.latest_model() else {
            return refuse("no chat model is running a call of this server");
        };
        if let Some(why) = self.may_not_ask() {
            return refuse(why);
        }
        let _asking = Asking(&self.asking);
        let request = super::sampling::request_of(&params);
        self.log
            .note("it asks the model: the person is asked first");
        let kind = AskKind::Sampling {
            model: model.clone(),
            request: request.clone(),
        };
        let message = "It wants the chat's model to answer the request below.";
        match self.asks.ask(&self.server, message, kind).await {
            Answer::Accept(_) => {}
            Answer::Decline => return refuse("the person did not allow it (or nobody could)"),
            Answer::Cancel => return refuse("the person cancelled it"),
        }
        match self.sampler.answer(&model.0, &model.1, &request).await {
            Ok(text) => Ok(CreateMessageResult::new(
                SamplingMessage::assistant_text(text),
                model.1,
            )
            .with_stop_reason(CreateMessageResult::STOP_REASON_END_TURN)),
            Err(why) => {
                self.log.note(&format!("the model could not answer: {why}"));
                Err(McpError::internal_error(
                    format!("The model could not answer: {why}"),
                    None,
                ))
            }
        }
    }

    async fn create_elicitation(
        &self,
        request: ElicitRequestParams,
        _c: RequestContext<RoleClient>,
    ) -> Result<ElicitResult, McpError> {
        if let Some(why) = self.may_not_ask() {
            self.log
                .note(&format!("it asked the person; declined: {why}"));
            return Ok(ElicitResult::new(ElicitationAction::Decline));
        }
        let _asking = Asking(&self.asking);
        let Some((message, kind)) = self.ask_of(request) else {
            return Ok(ElicitResult::new(ElicitationAction::Decline));
        };
        let is_url = matches!(kind, AskKind::Url { .. });
        let shown = match &kind {
            AskKind::Form { .. } => "a form",
            AskKind::Url { .. } => "an address to open",
            AskKind::Sampling { .. } => "a request to the model",
        };
        self.log.note(&format!("it asks the person: {shown}"));
        let answer = self.asks.ask(&self.server, &message, kind).await;
        self.log.note(&format!(
            "the person's answer: {}",
            match &answer {
                Answer::Accept(_) => "accepted",
                Answer::Decline => "declined (or nobody could answer)",
                Answer::Cancel => "cancelled",
            }
        ));
        Ok(match answer {
            // An address opened carries no content.
            Answer::Accept(_) if is_url => ElicitResult::new(ElicitationAction::Accept),
            Answer::Accept(content) => ElicitResult::new(ElicitationAction::Accept)
                .with_content(serde_json::Value::Object(content)),
            Answer::Decline => ElicitResult::new(ElicitationAction::Decline),
            Answer::Cancel => ElicitResult::new(ElicitationAction::Cancel),
        })
    }

    async fn on_progress(
        &self,
        p: rmcp::model::ProgressNotificationParam,
        _c: NotificationContext<RoleClient>,
    ) {
        let token = super::progress::token_text(&p.progress_token);
        self.progress.report(&token, p.progress, p.total, p.message);
    }

    async fn on_tool_list_changed(&self, _c: NotificationContext<RoleClient>) {
        self.log.note("the server says its tools changed");
        self.tools_changed.store(true, Ordering::SeqCst);
    }

    async fn on_logging_message(
        &self,
        p: LoggingMessageNotificationParam,
        _c: NotificationContext<RoleClient>,
    ) {
        self.log.push(&format!("[{:?}] {}", p.level, p.data));
    }
}
