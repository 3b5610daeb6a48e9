//! Request ids and the request span. Every request gets an id — a well-formed `X-Request-Id`
//! from a trusted proxy (`TSUNAGU_TRUSTED_PROXIES`), else a fresh UUIDv7 — echoed in the
//! response. Its span carries the id, method, matched route template (never the raw path),
//! status and latency: no query string, header or body, so no patient data.
use std::net::SocketAddr;
use std::time::Duration;

use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{HeaderName, HeaderValue, Response};
use axum::middleware::Next;
use tower_http::classify::{ServerErrorsAsFailures, SharedClassifier};
use tower_http::trace::{MakeSpan, OnResponse, TraceLayer};
use tracing::field::Empty;
use tracing::Span;

use crate::AppState;

pub const HEADER: HeaderName = HeaderName::from_static("x-request-id");
/// Longer than this is logged at info even when it succeeded.
const SLOW: Duration = Duration::from_secs(1);
const MAX_LEN: usize = 64;

/// The request's id, in the request's extensions for handlers that want it.
#[derive(Clone, Debug)]
pub struct RequestId(pub String);

/// Letters, digits and `-_.:`, at most 64: a proxy's id that cannot forge a log line.
pub fn well_formed(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= MAX_LEN
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
}

/// Outermost middleware: picks the id, stores it for the span, echoes it on the response.
pub async fn request_id(
    State(state): State<AppState>,
    mut req: Request,
    next: Next,
) -> Response<axum::body::Body> {
    let peer = req
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip());
    let from_proxy = peer
        .filter(|ip| crate::client_ip::trusted(&state.settings.trusted_proxies, *ip))
        .and_then(|_| req.headers().get(&HEADER))
        .and_then(|v| v.to_str().ok())
        .filter(|id| well_formed(id))
        .map(str::to_owned);
    let id = from_proxy.unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
    let value = HeaderValue::from_str(&id).ok();
    req.extensions_mut().insert(RequestId(id));
    let mut res = next.run(req).await;
    if let Some(v) = value {
        res.headers_mut().insert(HEADER, v);
    }
    res
}

/// The request span layer: no per-chunk, end-of-stream or failure lines.
pub type RequestTrace =
    TraceLayer<SharedClassifier<ServerErrorsAsFailures>, RequestSpan, (), LogResponse, (), (), ()>;

/// The span around every request; the request id middleware must run first (outer layer).
pub fn layer() -> RequestTrace {
    TraceLayer::new_for_http()
        .make_span_with(RequestSpan)
        .on_request(())
        .on_response(LogResponse)
        .on_body_chunk(())
        .on_eos(())
        .on_failure(())
}

#[derive(Clone, Copy, Debug)]
pub struct RequestSpan;

impl<B> MakeSpan<B> for RequestSpan {
    fn make_span(&mut self, req: &axum::http::Request<B>) -> Span {
        let id = req.extensions().get::<RequestId>().map(|r| r.0.as_str());
        // Router::layer runs after routing: the template is known, or nothing matched.
        let route = req
            .extensions()
            .get::<MatchedPath>()
            .map(MatchedPath::as_str);
        tracing::info_span!(
            "request",
            request_id = %id.unwrap_or("-"),
            method = %req.method(),
            route = %route.unwrap_or("(unmatched)"),
            status = Empty,
            latency_ms = Empty,
        )
    }
}

/// One line per request: info for errors and slow answers, debug otherwise.
#[derive(Clone, Copy, Debug)]
pub struct LogResponse;

impl<B> OnResponse<B> for LogResponse {
    fn on_response(self, res: &Response<B>, latency: Duration, span: &Span) {
        let status = res.status();
        span.record("status", status.as_u16());
        span.record("latency_ms", latency.as_millis() as u64);
        if latency >= SLOW || !(status.is_success() || status.is_redirection()) {
            tracing::info!(parent: span, "request finished");
        } else {
            tracing::debug!(parent: span, "request finished");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_short_plain_ids_are_taken() {
        assert!(well_formed("0190c3e2-7a1b-7c3d-8e4f-0123456789ab"));
        assert!(well_formed("req_42.a:b"));
        assert!(!well_formed(""));
        assert!(!well_formed("a b"));
        assert!(!well_formed("x\ninjected=1"));
        assert!(!well_formed(&"a".repeat(65)));
    }
}
