//! `POST /{version}/{phone_number_id}/messages`: sends and mark-as-read, with Meta's order of
//! checks: version → token → number → injected fault → JSON → spec and limits → template or
//! 24-hour window → throughput → pair rate → execute.
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, State as AxumState};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::post;
use axum::Router;
use chrono::{DateTime, Utc};
use serde_json::{json, Value};

use super::http::{authenticate, check_version, json_response, no_such_object, wamid, GraphError};
use super::state::{ChatEntry, FaultKind, State};
use super::{spec, templates, PhoneNumberConfig, Received, WhatsAppSandbox};

/// Meta doc: Cloud API › "Customer service windows" (24 hours from the user's last message).
const WINDOW: chrono::Duration = chrono::Duration::hours(24);

pub(crate) fn routes() -> Router<WhatsAppSandbox> {
    Router::new().route("/{version}/{node}/messages", post(messages))
}

/// Meta doc: Cloud API reference › Messages (`POST /{Phone-Number-ID}/messages`).
async fn messages(
    AxumState(sb): AxumState<WhatsAppSandbox>,
    Path((version, node)): Path<(String, String)>,
    headers: HeaderMap,
    raw: Bytes,
) -> Response {
    let now = sb.now();
    let outcome = {
        let mut st = sb.lock();
        decide(&mut st, &version, &node, &headers, &raw, now)
    };
    match outcome {
        Err(e) => e.into_response(),
        Ok((response, accepted, delay)) => {
            if let Some(d) = delay {
                tokio::time::sleep(d).await;
            }
            if let Some(wamid) = accepted {
                sb.schedule_auto_status(&wamid);
            }
            response
        }
    }
}

/// The wamid of an accepted send, for the demo's automatic statuses.
type Accepted = Option<String>;

fn decide(
    st: &mut State,
    version: &str,
    node: &str,
    headers: &HeaderMap,
    raw: &[u8],
    now: DateTime<Utc>,
) -> Result<(Response, Accepted, Option<Duration>), GraphError> {
    check_version(version)?;
    let number = authenticate(st, headers)?;
    if number.phone_number_id != node {
        return Err(no_such_object(node, "post"));
    }
    let path = format!("/{version}/{node}/messages");
    if let Some(FaultKind::Before {
        status,
        code,
        retry_after,
    }) = st.take_fault(&path, true)
    {
        return Err(GraphError::for_code(status, code).retry_after(retry_after));
    }
    let mut body: Value = serde_json::from_slice(raw)
        .map_err(|e| GraphError::invalid(format!("Invalid JSON in request body: {e}")))?;
    let spec = spec::spec().map_err(|e| GraphError::new(500, 1, format!("sandbox spec: {e}")))?;
    let (response, wamid) = if body.get("status").is_some() {
        let problems = spec.validate_mark_read(&body);
        if !problems.is_empty() {
            return Err(GraphError::invalid(problems.join("; ")));
        }
        (mark_read(st, &number, &body, now)?, None)
    } else {
        spec::infer_type(&mut body);
        let problems = spec.validate_message(&body);
        if !problems.is_empty() {
            return Err(GraphError::invalid(problems.join("; ")));
        }
        let (response, wamid) = send(st, &number, &body, now)?;
        (response, Some(wamid))
    };
    st.received.push(Received {
        phone_number_id: number.phone_number_id.clone(),
        access_token: number.access_token.clone(),
        body,
        at: now,
        wamid: wamid.clone(),
    });
    // Executed: an "after accept" fault now loses or delays the answer.
    Ok(match st.take_fault(&path, false) {
        Some(FaultKind::After) => (
            GraphError::for_code(500, 131000).into_response(),
            wamid,
            None,
        ),
        Some(FaultKind::DelayAfter(d)) => (response, wamid, Some(d)),
        _ => (response, wamid, None),
    })
}

/// Meta doc: Cloud API › Messages › "Mark messages as read" (answer `{"success": true}`).
fn mark_read(
    st: &mut State,
    number: &PhoneNumberConfig,
    body: &Value,
    _now: DateTime<Utc>,
) -> Result<Response, GraphError> {
    let id = body["message_id"].as_str().unwrap_or_default();
    let known = st
        .chats
        .iter()
        .filter(|((phone, _), _)| *phone == number.phone_number_id)
        .flat_map(|(_, entries)| entries)
        .any(|e| e.from == "user" && e.wamid == id);
    if !known {
        return Err(GraphError::invalid(format!("Invalid message_id: {id}")));
    }
    Ok(json_response(200, json!({ "success": true })))
}

fn send(
    st: &mut State,
    number: &PhoneNumberConfig,
    body: &Value,
    now: DateTime<Utc>,
) -> Result<(Response, String), GraphError> {
    let phone = number.phone_number_id.as_str();
    let input = body["to"].as_str().unwrap_or_default().to_owned();
    let wa_id: String = input.chars().filter(char::is_ascii_digit).collect();
    let plausible = input
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '+' | ' ' | '-' | '(' | ')'))
        && (7..=15).contains(&wa_id.len());
    if !plausible {
        return Err(GraphError::invalid(format!(
            "to: {input:?} is not a phone number"
        )));
    }
    let kind = body["type"].as_str().unwrap_or_default();
    if kind == "template" {
        templates::check_send(st, &number.waba_id, &body["template"])?;
    }
    if kind != "template" {
        let key = (phone.to_owned(), wa_id.clone());
        let open = st
            .last_inbound
            .get(&key)
            .is_some_and(|at| now - *at < WINDOW);
        if !open {
            return Err(GraphError::for_code(400, 131047));
        }
    }
    if !st.within_throughput(phone, now) {
        return Err(GraphError::for_code(400, 130429));
    }
    if !st.within_pair_rate(phone, &wa_id, now) {
        return Err(GraphError::for_code(400, 131056));
    }
    // Accepted from here on.
    let id = wamid(&wa_id);
    st.sent
        .insert(id.clone(), (phone.to_owned(), wa_id.clone()));
    if let Some(data) = body["biz_opaque_callback_data"].as_str() {
        st.callback_data.insert(id.clone(), data.to_owned());
    }
    let entry = ChatEntry {
        from: "business",
        at: now,
        wamid: id.clone(),
        message: body.clone(),
        status: None,
    };
    st.log_chat(phone, &wa_id, entry);
    let mut message = json!({ "id": id });
    if kind == "template" {
        message["message_status"] = json!("accepted");
    }
    let answer = json!({
        "messaging_product": "whatsapp",
        "contacts": [{ "input": input, "wa_id": wa_id }],
        "messages": [message],
    });
    Ok((json_response(200, answer), id))
}
