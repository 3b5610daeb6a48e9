//! The wrapper every API `POST` runs through (`api::post` applies it), so a new operation honours
//! `Idempotency-Key` without writing any code for it. The key store is [`super::idempotency`].
//!
//! With a key: the token is authenticated, the request (method, path, query and body) hashed,
//! the key claimed; only the claiming request runs the handler. A success (2xx) is stored and
//! replayed to repeats with `Idempotent-Replayed: true`; any other answer gives the key back, so
//! a corrected retry may use it. Handlers answer an error only when they changed nothing.
//!
//! With or without a key the handler runs in its own task: a client that hangs up must not
//! stop a write halfway (a queued message without its audit row, a key held forever).
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;

use axum::body::{Body, Bytes};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::handler::Handler;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use tsunagu_core::{Code, Refusal};
use tsunagu_privacy::crypto::sha256_hex;
use utoipa::openapi::{ContentBuilder, Ref, RefOr, ResponseBuilder};
use utoipa::{IntoParams, Modify};

use super::idempotency::{self, Claim, KeyScope};
use super::ApiAuth;
use crate::{ApiError, AppState};

/// Put in a success response's extensions by a handler that changed nothing (a dry run): its
/// answer is not kept for repeats (it may hold patient data), the key is given back instead.
#[derive(Clone, Copy, Debug)]
pub struct NothingToReplay;

/// The header's name as documented.
pub const HEADER_NAME: &str = "Idempotency-Key";

/// The `Idempotency-Key` header as documented on every `POST` (`params(.., IdempotencyKey)`).
#[derive(IntoParams)]
#[into_params(parameter_in = Header)]
pub struct IdempotencyKey {
    /// 1–255 visible ASCII characters, unique per request. A repeat by the same token within
    /// 24 hours answers with the first success (header `Idempotent-Replayed: true`) and does
    /// nothing again; the same key with a different request is refused (422
    /// `idempotency_key_reused`); a repeat while the first is still running waits briefly, then
    /// gets 409 `idempotency_key_in_progress`. A refused request does not use up its key.
    #[param(rename = "Idempotency-Key")]
    pub idempotency_key: Option<String>,
}

/// The answers the wrapper adds, written into every operation that takes the header, so each
/// operation's own annotation lists only its own codes.
pub struct KeyResponses;

impl Modify for KeyResponses {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let added = [
            ("400", "`invalid_idempotency_key`"),
            (
                "409",
                "`idempotency_key_in_progress`: the first request with this key has not finished",
            ),
            (
                "422",
                "`idempotency_key_reused`: the key was used for a different request",
            ),
        ];
        for item in openapi.paths.paths.values_mut() {
            let ops = [
                &mut item.post,
                &mut item.put,
                &mut item.patch,
                &mut item.delete,
            ];
            for op in ops.into_iter().flatten() {
                let takes_key = op
                    .parameters
                    .iter()
                    .flatten()
                    .any(|p| p.name == HEADER_NAME);
                if !takes_key {
                    continue;
                }
                let responses = &mut op.responses.responses;
                for (status, text) in added {
                    match responses.get_mut(status) {
                        Some(RefOr::T(r)) => r.description = format!("{}; {text}", r.description),
                        Some(RefOr::Ref(_)) => {}
                        None => {
                            responses.insert(status.into(), error_response(text).into());
                        }
                    }
                }
            }
        }
    }
}

fn error_response(description: &str) -> utoipa::openapi::Response {
    let body = ContentBuilder::new()
        .schema(Some(Ref::from_schema_name("ErrorBody")))
        .build();
    ResponseBuilder::new()
        .description(description)
        .content("application/json", body)
        .build()
}

/// A handler that honours `Idempotency-Key`.
pub struct Idempotent<H, T> {
    handler: H,
    _t: PhantomData<fn() -> T>,
}

impl<H, T> Idempotent<H, T> {
    pub fn new(handler: H) -> Self {
        Self {
            handler,
            _t: PhantomData,
        }
    }
}

impl<H: Clone, T> Clone for Idempotent<H, T> {
    fn clone(&self) -> Self {
        Self::new(self.handler.clone())
    }
}

impl<H, T> Handler<T, AppState> for Idempotent<H, T>
where
    H: Handler<T, AppState>,
    T: 'static,
{
    type Future = Pin<Box<dyn Future<Output = Response> + Send>>;

    fn call(self, req: Request, state: AppState) -> Self::Future {
        let handler = self.handler;
        Box::pin(async move {
            let task = tokio::spawn(run(handler, req, state));
            task.await.unwrap_or_else(|e| {
                let e = anyhow::Error::new(e).context("an API write task");
                ApiError::from(e).into_response()
            })
        })
    }
}

async fn run<H, T>(handler: H, req: Request, state: AppState) -> Response
where
    H: Handler<T, AppState>,
    T: 'static,
{
    let key = match idempotency::key_from(req.headers()) {
        Ok(Some(key)) => key,
        Ok(None) => return handler.call(req, state).await,
        Err(e) => return e.into_response(),
    };
    let (mut parts, body) = req.into_parts();
    let auth = match ApiAuth::from_request_parts(&mut parts, &state).await {
        Ok(auth) => auth,
        Err(res) => return res,
    };
    // The handler's own `ApiAuth` reads this instead of looking the token up again.
    parts.extensions.insert(auth.clone());
    // Read the body under the route's own limit (`DefaultBodyLimit` travels in the extensions).
    let mut limited = Request::new(body);
    *limited.extensions_mut() = parts.extensions.clone();
    let bytes = match Bytes::from_request(limited, &state).await {
        Ok(b) => b,
        Err(e) => {
            let code = match e.status() {
                StatusCode::PAYLOAD_TOO_LARGE => Code::PayloadTooLarge,
                _ => Code::BadRequest,
            };
            return ApiError::new(e.status(), code, e.body_text()).into_response();
        }
    };
    let target = parts.uri.path_and_query().map_or("", |p| p.as_str());
    let request = [parts.method.as_str(), " ", target, "\n"].concat();
    let request_hash = sha256_hex(&[request.as_bytes(), &canonical(&bytes)].concat());
    let req = Request::from_parts(parts, Body::from(bytes));

    let scope = KeyScope {
        clinic: &auth.clinic,
        actor_id: auth.token_id.as_str(),
        key: &key,
    };
    match idempotency::claim(&state.db, &scope, &request_hash, state.now_ms()).await {
        Ok(claim) => {
            if let Some(answer) = answer_instead(claim) {
                return answer;
            }
        }
        Err(e) => return ApiError::from(e).into_response(),
    }
    let res = handler.call(req, state.clone()).await;
    if !res.status().is_success() || res.extensions().get::<NothingToReplay>().is_some() {
        if let Err(e) = idempotency::release(&state.db, &scope).await {
            tracing::warn!(error = %format!("{e:#}"), "could not release an idempotency key");
        }
        return res;
    }
    keep(&state, &scope, res).await
}

/// What a request that did not get the key answers; `None` when it got it.
fn answer_instead(claim: Claim) -> Option<Response> {
    let (code, message) = match claim {
        Claim::Replay { status, body } => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
            let mut res = (status, body).into_response();
            let h = res.headers_mut();
            h.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
            h.insert("idempotent-replayed", HeaderValue::from_static("true"));
            return Some(res);
        }
        Claim::Acquired => return None,
        Claim::Mismatch => (
            Code::IdempotencyKeyReused,
            "This Idempotency-Key was used for a different request.",
        ),
        Claim::InProgress => (
            Code::IdempotencyKeyInProgress,
            "A request with this Idempotency-Key is still being processed; retry shortly.",
        ),
    };
    let refused = Refusal::new(code).detail(message);
    Some(ApiError::from(refused).into_response())
}

/// Stores a success for repeats and passes it on. The work is done: failing now would invite a
/// retry that acts twice, so a response that cannot be stored is logged, the key stays held
/// (repeats get 409) and the client still gets its answer.
async fn keep(state: &AppState, scope: &KeyScope<'_>, res: Response) -> Response {
    let (parts, body) = res.into_parts();
    let bytes = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(b) => b,
        Err(e) => {
            let e = anyhow::anyhow!("reading an API response to keep for its key: {e}");
            return ApiError::from(e).into_response();
        }
    };
    let text = String::from_utf8_lossy(&bytes);
    let stored = async {
        let mut tx = state.db.begin().await?;
        idempotency::store(tx.conn(), scope, parts.status.as_u16(), &text).await?;
        tx.commit().await
    }
    .await;
    if let Err(e) = stored {
        tracing::error!(error = %format!("{e:#}"), "an idempotent response could not be stored");
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// JSON bodies are compared by meaning (whitespace and key order do not matter), others as bytes.
fn canonical(body: &[u8]) -> Vec<u8> {
    match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(v) => v.to_string().into_bytes(),
        Err(_) => body.to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_bodies_are_compared_by_meaning() {
        assert_eq!(
            canonical(br#"{"b": 1, "a": [1, 2]}"#),
            canonical(br#"{"a":[1,2],"b":1}"#)
        );
        assert_ne!(canonical(br#"{"a": 1}"#), canonical(br#"{"a": 2}"#));
        assert_eq!(canonical(b"name,phone\n"), b"name,phone\n".to_vec());
    }
}
