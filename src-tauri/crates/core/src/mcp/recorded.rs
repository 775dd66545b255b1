//! MCP's streamable HTTP client with each request recorded in the outbound ledger: rmcp sends
//! them itself (from its own task), so the client keeps the ledger's scope of the connection
//! and records every POST, GET and DELETE it makes — the host, the bytes of the message sent
//! and of a JSON answer, 202 when the server accepted a notification (the one status rmcp's
//! answer tells for certain; others are left blank rather than guessed), or the failure.

use crate::ledger::{begin_in, Scope, Tally};
use parley_protocol::OutboundPurpose;
use reqwest_mcp::header::{HeaderName, HeaderValue};
use rmcp::model::ClientJsonRpcMessage;
use rmcp::transport::streamable_http_client::{
    SseError, StreamableHttpClient, StreamableHttpError, StreamableHttpPostResponse,
    StreamableHttpResponseLimits,
};
use std::collections::HashMap;
use std::sync::Arc;

/// `inner`, its requests recorded in `scope`.
#[derive(Clone)]
pub(super) struct Recorded<C> {
    inner: C,
    scope: Option<Scope>,
}

impl<C> Recorded<C> {
    pub(super) fn new(inner: C) -> Recorded<C> {
        Recorded {
            inner,
            scope: crate::ledger::current(),
        }
    }

    fn begin(&self, method: &str, uri: &str, up: usize) -> Option<Tally> {
        let url = url::Url::parse(uri).ok()?;
        begin_in(
            self.scope.clone(),
            method,
            &url,
            up as u64,
            Some(OutboundPurpose::Mcp),
            None,
        )
    }
}

/// Records how a request ended.
fn ended<T, E>(
    tally: Option<Tally>,
    result: &Result<T, E>,
    status: impl Fn(&T) -> (Option<u16>, usize),
) {
    let Some(t) = tally else { return };
    match result {
        Ok(v) => {
            let (code, down) = status(v);
            if let Some(code) = code {
                t.responded(code, None);
            }
            t.add(down);
        }
        Err(_) => t.failed("failed"),
    }
}

/// 202 for an accepted notification (certain); a JSON or event-stream answer's status is not
/// told by rmcp (a JSON-RPC error may come with any), so it is left blank.
fn posted(r: &StreamableHttpPostResponse) -> (Option<u16>, usize) {
    match r {
        StreamableHttpPostResponse::Accepted => (Some(202), 0),
        StreamableHttpPostResponse::Json(m, _) => {
            (None, serde_json::to_vec(m).map_or(0, |v| v.len()))
        }
        _ => (None, 0),
    }
}

type Stream = futures::stream::BoxStream<'static, Result<sse_stream::Sse, SseError>>;

impl<C: StreamableHttpClient + Sync> StreamableHttpClient for Recorded<C> {
    type Error = C::Error;

    async fn post_message(
        &self,
        uri: Arc<str>,
        message: ClientJsonRpcMessage,
        session_id: Option<Arc<str>>,
        auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
    ) -> Result<StreamableHttpPostResponse, StreamableHttpError<Self::Error>> {
        let up = serde_json::to_vec(&message).map_or(0, |v| v.len());
        let tally = self.begin("POST", &uri, up);
        let r = self
            .inner
            .post_message(uri, message, session_id, auth_header, custom_headers)
            .await;
        ended(tally, &r, posted);
        r
    }

    async fn post_message_with_response_limits(
        &self,
        uri: Arc<str>,
        message: ClientJsonRpcMessage,
        session_id: Option<Arc<str>>,
        auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
        limits: StreamableHttpResponseLimits,
    ) -> Result<StreamableHttpPostResponse, StreamableHttpError<Self::Error>> {
        let up = serde_json::to_vec(&message).map_or(0, |v| v.len());
        let tally = self.begin("POST", &uri, up);
        let r = self
            .inner
            .post_message_with_response_limits(
                uri,
                message,
                session_id,
                auth_header,
                custom_headers,
                limits,
            )
            .await;
        ended(tally, &r, posted);
        r
    }

    async fn delete_session(
        &self,
        uri: Arc<str>,
        session_id: Arc<str>,
        auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
    ) -> Result<(), StreamableHttpError<Self::Error>> {
        let tally = self.begin("DELETE", &uri, 0);
        let r = self
            .inner
            .delete_session(uri, session_id, auth_header, custom_headers)
            .await;
        ended(tally, &r, |_| (None, 0));
        r
    }

    async fn get_stream(
        &self,
        uri: Arc<str>,
        session_id: Option<Arc<str>>,
        last_event_id: Option<String>,
        auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
    ) -> Result<Stream, StreamableHttpError<Self::Error>> {
        let tally = self.begin("GET", &uri, 0);
        let r = self
            .inner
            .get_stream(uri, session_id, last_event_id, auth_header, custom_headers)
            .await;
        ended(tally, &r, |_| (None, 0));
        r
    }

    async fn get_stream_with_max_sse_event_size(
        &self,
        uri: Arc<str>,
        session_id: Option<Arc<str>>,
        last_event_id: Option<String>,
        auth_header: Option<String>,
        custom_headers: HashMap<HeaderName, HeaderValue>,
        max_sse_event_size: usize,
    ) -> Result<Stream, StreamableHttpError<Self::Error>> {
        let tally = self.begin("GET", &uri, 0);
        let r = self
            .inner
            .get_stream_with_max_sse_event_size(
                uri,
                session_id,
                last_event_id,
                auth_header,
                custom_headers,
                max_sse_event_size,
            )
            .await;
        ended(tally, &r, |_| (None, 0));
        r
    }
}
