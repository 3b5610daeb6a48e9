//! FetchMessage, and the media a patient sent (the bytes, and the Media resource).
#![allow(clippy::result_large_err)] // the error is the HTTP answer, built once per request
use axum::extract::{Path, State as AxumState};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::http::{authenticate, injected, json_response, not_found_at};
use super::state::{FaultKind, State};
use super::{ids, resource, TwilioSandbox};

/// Auth and faults shared by every read, then the handler's answer.
async fn read(
    sb: &TwilioSandbox,
    headers: &HeaderMap,
    account: &str,
    path: &str,
    answer: impl FnOnce(&State) -> Response,
) -> Response {
    let (response, delay) = {
        let mut st = sb.lock();
        if let Err(r) = authenticate(&st, headers, account) {
            return r;
        }
        if let Some(FaultKind::Before(status, retry_after)) = st.take_fault(path, true) {
            return injected(status, retry_after);
        }
        let response = answer(&st);
        match st.take_fault(path, false) {
            Some(FaultKind::After) => (injected(500, None), None),
            Some(FaultKind::DelayAfter(d)) => (response, Some(d)),
            _ => (response, None),
        }
    };
    if let Some(d) = delay {
        tokio::time::sleep(d).await;
    }
    response
}

/// Twilio doc: Messaging › API › Message resource › "Fetch a Message resource"
/// (`GET /2010-04-01/Accounts/{AccountSid}/Messages/{Sid}.json`).
pub(crate) async fn message(
    AxumState(sb): AxumState<TwilioSandbox>,
    Path((account, file)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let path = format!("/2010-04-01/Accounts/{account}/Messages/{file}");
    read(&sb, &headers, &account, &path, |st| {
        let sid = file.strip_suffix(".json").unwrap_or_default();
        st.messages
            .iter()
            .find(|m| m.sid == sid && m.account_sid == account)
            .map_or_else(|| not_found_at(&path), |m| json_response(200, resource(m)))
    })
    .await
}

/// Twilio doc: Messaging › API › Media resource — `…/Media/{Sid}` is the file itself (HTTP
/// Basic when the account enforces it, which the sandbox always does), `…/Media/{Sid}.json` the
/// resource describing it.
pub(crate) async fn media(
    AxumState(sb): AxumState<TwilioSandbox>,
    Path((account, message_sid, file)): Path<(String, String, String)>,
    headers: HeaderMap,
) -> Response {
    let path = format!("/2010-04-01/Accounts/{account}/Messages/{message_sid}/Media/{file}");
    read(&sb, &headers, &account, &path, |st| {
        let (sid, as_json) = match file.strip_suffix(".json") {
            Some(sid) => (sid, true),
            None => (file.as_str(), false),
        };
        let Some(m) = st
            .media
            .get(sid)
            .filter(|m| m.account_sid == account && m.message_sid == message_sid)
        else {
            return not_found_at(&path);
        };
        if as_json {
            let base = format!("/2010-04-01/Accounts/{account}/Messages/{message_sid}/Media/{sid}");
            return json_response(
                200,
                json!({
                    "account_sid": account,
                    "content_type": m.content_type,
                    "date_created": ids::rfc2822(m.created),
                    "date_updated": ids::rfc2822(m.created),
                    "parent_sid": message_sid,
                    "sid": sid,
                    "uri": format!("{base}.json"),
                }),
            );
        }
        let mut resp = m.bytes.clone().into_response();
        if let Ok(v) = HeaderValue::from_str(&m.content_type) {
            resp.headers_mut().insert(header::CONTENT_TYPE, v);
        }
        resp
    })
    .await
}
