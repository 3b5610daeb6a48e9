//! The span around every provider call: provider, operation, status and latency (until the
//! answer's head arrived). Never the URL (ids, tokens), headers or bodies; the error handed
//! back has its URL removed too, so it cannot reach a log or a failure reason.
use std::time::Instant;

use reqwest::{RequestBuilder, Response};
use tracing::field::Empty;
use tracing::Instrument;

/// Sends `req`, traced as `provider`/`operation` (e.g. "line"/"push").
pub async fn send(
    provider: &'static str,
    operation: &'static str,
    req: RequestBuilder,
) -> Result<Response, reqwest::Error> {
    let span = tracing::info_span!(
        "outbound",
        provider,
        operation,
        status = Empty,
        latency_ms = Empty
    );
    let started = Instant::now();
    let result = req.send().instrument(span.clone()).await;
    span.record("latency_ms", started.elapsed().as_millis() as u64);
    match result {
        Ok(resp) => {
            let status = resp.status();
            span.record("status", status.as_u16());
            if status.is_success() {
                tracing::debug!(parent: &span, "provider answered");
            } else {
                tracing::info!(parent: &span, "provider answered with an error");
            }
            Ok(resp)
        }
        Err(e) => {
            let e = e.without_url();
            tracing::info!(parent: &span, failure = failure(&e), "provider call failed");
            Err(e)
        }
    }
}

/// What went wrong, in words that carry nothing from the request.
fn failure(e: &reqwest::Error) -> &'static str {
    if super::refusal(e).is_some() {
        "address refused"
    } else if e.is_timeout() {
        "timeout"
    } else if e.is_connect() {
        "connect"
    } else if e.is_redirect() {
        "redirect"
    } else if e.is_builder() {
        "builder"
    } else {
        "request"
    }
}
