//! CreateMessage, with Twilio's order of checks: auth → parameters against the spec → recipient
//! → sender → content → test numbers → opt-out → sender queue → accept.
#![allow(clippy::result_large_err)] // the error is the HTTP answer, built once per request
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, State as AxumState};
use axum::http::HeaderMap;
use axum::response::Response;
use chrono::{DateTime, Utc};
use serde_json::Value;

use super::http::{authenticate, code, error, injected, json_response};
use super::state::{FaultKind, SmsMessage, State};
use super::{ids, resource, spec, TwilioSandbox};

/// Twilio's limits on a message (Message resource › Body, MediaUrl).
pub(crate) const MAX_BODY_CHARS: usize = 1600;
pub(crate) const MAX_MEDIA: usize = 10;

/// Twilio doc: Messaging › "Test credentials" — magic `To` numbers and the error each gives.
const MAGIC_TO: [(&str, u32, &str); 5] = [
    ("+15005550001", code::INVALID_TO, "The 'To' number +15005550001 is not a valid phone number."),
    ("+15005550002", code::CANNOT_ROUTE, "The 'To' phone number: +15005550002, is not currently reachable using the 'From' phone number via SMS."),
    ("+15005550003", code::NO_INTERNATIONAL_PERMISSION, "Permission to send an SMS has not been enabled for the region indicated by the 'To' number: +15005550003."),
    ("+15005550004", code::UNSUBSCRIBED, "Attempt to send to unsubscribed recipient"),
    ("+15005550009", code::NOT_MOBILE, "The 'To' number +15005550009 is not a mobile number"),
];

/// Twilio doc: Messaging › API › Message resource › "Create a Message resource".
pub(crate) async fn create(
    AxumState(sb): AxumState<TwilioSandbox>,
    Path(account): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let now = sb.now();
    let path = format!("/2010-04-01/Accounts/{account}/Messages.json");
    let (response, delay, accepted) = {
        let mut st = sb.lock();
        match execute(&mut st, &account, &path, &headers, &body, now) {
            Err(response) => (response, None, None),
            // Executed: an "after accept" fault now loses or delays the answer.
            Ok((response, sid)) => match st.take_fault(&path, false) {
                Some(FaultKind::After) => (injected(500, None), None, Some(sid)),
                Some(FaultKind::DelayAfter(d)) => (response, Some(d), Some(sid)),
                _ => (response, None, Some(sid)),
            },
        }
    };
    if let Some(sid) = accepted {
        sb.after_accept(&sid);
    }
    if let Some(d) = delay {
        tokio::time::sleep(d).await;
    }
    response
}

fn execute(
    st: &mut State,
    account: &str,
    path: &str,
    headers: &HeaderMap,
    raw: &[u8],
    now: DateTime<Utc>,
) -> Result<(Response, String), Response> {
    authenticate(st, headers, account)?;
    if let Some(FaultKind::Before(status, retry_after)) = st.take_fault(path, true) {
        return Err(injected(status, retry_after));
    }
    let form: Vec<(String, String)> = serde_urlencoded::from_bytes(raw).map_err(|e| {
        error(
            400,
            code::INVALID_PARAMETER,
            &format!("Unreadable form body: {e}"),
        )
    })?;
    let spec = spec::spec().map_err(|e| error(500, code::INTERNAL, &e))?;
    let (req, problems) = spec.create_message(&form);
    if let Some(p) = problems.first() {
        return Err(refusal(&p.param, &p.message));
    }
    let text = |name: &str| req.get(name).and_then(Value::as_str).map(str::to_owned);
    let to = text("To").unwrap_or_default();
    if !ids::is_e164(&to) {
        return Err(error(
            400,
            code::INVALID_TO,
            &format!("The 'To' number {to} is not a valid phone number."),
        ));
    }
    let service = text("MessagingServiceSid");
    let from = sender(st, account, text("From"), service.as_deref(), &to)?;
    let body = text("Body").unwrap_or_default();
    let media: Vec<String> = req
        .get("MediaUrl")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    if req.get("ContentSid").is_some() && body.is_empty() && media.is_empty() {
        return Err(error(
            400,
            code::INVALID_PARAMETER,
            "ContentSid (Content Templates) is not emulated by the sandbox",
        ));
    }
    if body.is_empty() && media.is_empty() {
        return Err(error(400, code::BODY_REQUIRED, "Message body is required."));
    }
    if body.chars().count() > MAX_BODY_CHARS {
        return Err(error(
            400,
            code::BODY_TOO_LONG,
            "The concatenated message body exceeds the 1600 character limit.",
        ));
    }
    if media.len() > MAX_MEDIA
        || media
            .iter()
            .any(|u| !u.starts_with("http://") && !u.starts_with("https://"))
    {
        return Err(error(
            400,
            code::INVALID_MEDIA,
            "Invalid media URL(s): at most 10 absolute http(s) URLs",
        ));
    }
    if from.number == to {
        return Err(error(
            400,
            code::TO_EQUALS_FROM,
            "'To' and 'From' number cannot be the same",
        ));
    }
    if let Some((_, c, message)) = MAGIC_TO.iter().find(|(n, _, _)| *n == to) {
        return Err(error(400, *c, message));
    }
    if st
        .opted_out
        .contains(&(st.opt_out_scope(&from.number), to.clone()))
    {
        return Err(error(
            400,
            code::UNSUBSCRIBED,
            "Attempt to send to unsubscribed recipient",
        ));
    }
    let segments = ids::num_segments(&body);
    if !st.enqueue(&from.number, segments, now) {
        return Err(error(429, code::TOO_MANY_REQUESTS, "Too Many Requests"));
    }

    // Accepted from here on: nothing below may fail.
    let message = SmsMessage {
        sid: ids::sid(if media.is_empty() { "SM" } else { "MM" }),
        account_sid: account.to_owned(),
        direction: "outbound-api",
        from: from.number,
        to,
        body,
        media_urls: media,
        status: if from.pending { "accepted" } else { "queued" }.to_owned(),
        error_code: None,
        messaging_service_sid: from.service,
        num_segments: segments,
        status_callback: text("StatusCallback"),
        date_created: now,
        date_updated: now,
        sender_pending: from.pending,
    };
    let answer = resource(&message);
    let sid = message.sid.clone();
    st.messages.push(message);
    if let Some(m) = st.message_mut(&sid) {
        // The Messaging Service has picked its sender by the time anyone fetches the message.
        if m.sender_pending {
            m.sender_pending = false;
            m.status = "queued".into();
        }
    }
    Ok((json_response(201, answer), sid))
}

/// A spec violation with Twilio's code for the parameter where it has one.
fn refusal(param: &str, detail: &str) -> Response {
    match param {
        "To" if detail.contains("required") => {
            error(400, code::TO_REQUIRED, "A 'To' phone number is required.")
        }
        "To" => error(
            400,
            code::INVALID_TO,
            "The 'To' number is not a valid phone number.",
        ),
        "From" => error(
            400,
            code::INVALID_FROM,
            "The 'From' number is not a valid phone number, shortcode, or alphanumeric sender ID.",
        ),
        "MessagingServiceSid" => error(
            400,
            code::INVALID_SERVICE,
            "The Messaging Service is invalid",
        ),
        "StatusCallback" => error(
            400,
            code::INVALID_STATUS_CALLBACK,
            "The StatusCallback URL is not a valid URL.",
        ),
        "MediaUrl" => error(400, code::INVALID_MEDIA, "Invalid media URL(s)"),
        _ => error(
            400,
            code::INVALID_PARAMETER,
            &format!("Invalid parameter {param}: {detail}"),
        ),
    }
}

struct From {
    number: String,
    service: Option<String>,
    /// Chosen from the Messaging Service's pool, so the answer shows no `from` yet.
    pending: bool,
}

/// The sending number: `From` if the account owns it (and it is in the service's pool when both
/// are given), else the service's sender the patient last texted, else its first number.
fn sender(
    st: &State,
    account: &str,
    from: Option<String>,
    service: Option<&str>,
    to: &str,
) -> Result<From, Response> {
    let owned = |n: &str| st.numbers.get(n).filter(|c| c.account_sid == account);
    let pool = |mg: &str| {
        let mut numbers: Vec<&String> = st
            .numbers
            .values()
            .filter(|c| c.account_sid == account && c.messaging_service_sid.as_deref() == Some(mg))
            .map(|c| &c.phone_number)
            .collect();
        numbers.sort();
        numbers
    };
    if let Some(mg) = service {
        if pool(mg).is_empty() {
            return Err(error(
                404,
                code::SERVICE_NOT_FOUND,
                "The Messaging Service does not exist",
            ));
        }
    }
    match (from, service) {
        (Some(number), service) => {
            let config = owned(&number).ok_or_else(|| not_owned(&number))?;
            if service.is_some_and(|mg| config.messaging_service_sid.as_deref() != Some(mg)) {
                return Err(not_owned(&number));
            }
            Ok(From {
                number,
                service: config.messaging_service_sid.clone(),
                pending: false,
            })
        }
        (None, Some(mg)) => {
            let numbers = pool(mg);
            // Sticky sender: the number this patient last wrote to.
            let sticky = st
                .messages
                .iter()
                .rev()
                .find(|m| m.direction == "inbound" && m.from == to && numbers.contains(&&m.to))
                .map(|m| m.to.clone());
            let number = sticky
                .or_else(|| numbers.first().map(|n| (*n).clone()))
                .unwrap_or_default();
            Ok(From {
                number,
                service: Some(mg.to_owned()),
                pending: true,
            })
        }
        (None, None) => Err(error(
            400,
            code::FROM_REQUIRED,
            "A 'From' or 'MessagingServiceSid' parameter is required to send a message.",
        )),
    }
}

fn not_owned(number: &str) -> Response {
    error(
        400,
        code::FROM_NOT_OWNED,
        &format!("The From phone number {number} is not a valid, SMS-capable inbound phone number or short code for your account."),
    )
}

/// How long `after_accept` waits between simulated status changes (the demo's pace).
pub(crate) const AUTO_STATUS_STEP: Duration = Duration::from_millis(400);
