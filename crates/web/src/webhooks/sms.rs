//! `POST /webhooks/sms/{channel_id}` (incoming SMS/MMS) and `…/status` (the status callback
//! tsunagu sets on each send). Twilio doc: Security › Validating requests: the signature covers
//! the URL Twilio called, rebuilt here from `TSUNAGU_PUBLIC_URL` + the request path and query.
use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use tracing::field::Empty;
use tsunagu_channels::sms::{inbound, signature, status};
use tsunagu_channels::ChannelKind;
use tsunagu_inbox::ingest::inbound::ChannelRef;
use tsunagu_inbox::ingest::sms;

use super::common::{load, publish, read_capped, reply, LoadedChannel};
use crate::AppState;

/// Twilio reads the answer as TwiML: an empty response sends nothing back to the patient.
fn empty_twiml() -> Response {
    (
        StatusCode::OK,
        [(axum::http::header::CONTENT_TYPE, "text/xml; charset=utf-8")],
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response/>",
    )
        .into_response()
}

/// Verifies the signature and decodes the form; the error is the response to give.
async fn verified_form(
    state: &AppState,
    channel_id: &str,
    req: Request,
) -> Result<(LoadedChannel, Vec<(String, String)>), Response> {
    let (parts, body) = req.into_parts();
    let raw = read_capped(body, state.settings.webhooks.max_body_bytes).await?;
    let ch = load(state, channel_id, ChannelKind::Sms).await?;
    let path = parts
        .uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/");
    let url = format!("{}{path}", state.settings.public_base());
    let form: Vec<(String, String)> = url::form_urlencoded::parse(&raw).into_owned().collect();
    let sig = parts
        .headers
        .get("x-twilio-signature")
        .and_then(|v| v.to_str().ok());
    if !signature::verify(ch.cred("auth_token"), &url, &form, sig) {
        tracing::warn!(channel = %ch.id, "Twilio webhook with a missing or wrong signature refused");
        return Err(reply(StatusCode::UNAUTHORIZED, "bad signature"));
    }
    Ok((ch, form))
}

/// Spanned with our channel id and counts only: never a phone number or message text.
#[tracing::instrument(name = "webhook", skip_all, fields(kind = "sms", channel = Empty, new = Empty))]
pub async fn receive(
    State(state): State<AppState>,
    Path(channel_id): Path<String>,
    req: Request,
) -> Response {
    let (ch, form) = match verified_form(&state, &channel_id, req).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let Ok(msg) = inbound::parse(&form) else {
        return reply(StatusCode::BAD_REQUEST, "malformed form");
    };
    let at = ChannelRef {
        clinic_id: &ch.clinic,
        channel_id: &ch.id,
    };
    match sms::receive(&state.db, at, &ch.endpoints, &msg, state.now_ms()).await {
        Ok(report) => {
            tracing::Span::current().record("new", report.new_events);
            tracing::info!("SMS stored");
            publish(
                &state,
                &ch.clinic,
                &report.touched_conversations,
                "message.created",
            );
            empty_twiml()
        }
        Err(e) => {
            tracing::error!(error = %format!("{e:#}"), channel = %ch.id, "storing an SMS");
            reply(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
        }
    }
}

/// The message id tsunagu put in the StatusCallback URL (`?message=…`), if any.
fn our_message_id(req: &Request) -> Option<String> {
    url::form_urlencoded::parse(req.uri().query().unwrap_or("").as_bytes())
        .find(|(k, _)| k == "message")
        .map(|(_, v)| v.into_owned())
        .filter(|v| !v.is_empty())
}

#[tracing::instrument(name = "webhook", skip_all, fields(kind = "sms_status", channel = Empty))]
pub async fn receive_status(
    State(state): State<AppState>,
    Path(channel_id): Path<String>,
    req: Request,
) -> Response {
    let ours = our_message_id(&req);
    let (ch, form) = match verified_form(&state, &channel_id, req).await {
        Ok(v) => v,
        Err(r) => return r,
    };
    let Ok(cb) = status::parse(&form) else {
        return reply(StatusCode::BAD_REQUEST, "malformed form");
    };
    let at = ChannelRef {
        clinic_id: &ch.clinic,
        channel_id: &ch.id,
    };
    match sms::status(&state.db, at, &cb, ours.as_deref(), state.now_ms()).await {
        Ok(report) => {
            publish(
                &state,
                &ch.clinic,
                &report.touched_conversations,
                "message.updated",
            );
            reply(StatusCode::OK, "ok")
        }
        Err(e) => {
            tracing::error!(error = %format!("{e:#}"), channel = %ch.id, "storing an SMS status");
            reply(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
        }
    }
}
