//! What every provider endpoint shares: the capped body read, the channel with its secrets
//! decrypted, live updates after the commit, and Meta's GET subscription handshake.
use std::collections::HashMap;

use axum::body::Body;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use http_body_util::{BodyExt, Limited};
use tracing::field::Empty;
use tsunagu_channels::ChannelKind;
use tsunagu_core::{ChannelId, ClinicId};
use tsunagu_inbox::LiveEvent;
use tsunagu_store::channels::{self, Endpoints};

use crate::AppState;

pub fn reply(status: StatusCode, msg: &'static str) -> Response {
    (status, msg).into_response()
}

/// Reads the body up to the configured cap: 413 beyond it, before anything else happens.
pub async fn read_capped(body: Body, cap: usize) -> Result<bytes::Bytes, Response> {
    match Limited::new(body, cap).collect().await {
        Ok(c) => Ok(c.to_bytes()),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => {
            Err(reply(StatusCode::PAYLOAD_TOO_LARGE, "body too large"))
        }
        Err(_) => Err(reply(StatusCode::BAD_REQUEST, "could not read body")),
    }
}

/// An enabled channel of the endpoint's kind, with its credentials decrypted for this request.
pub struct LoadedChannel {
    pub id: ChannelId,
    pub clinic: ClinicId,
    pub creds: serde_json::Value,
    pub endpoints: Endpoints,
}

impl LoadedChannel {
    pub fn cred(&self, key: &str) -> &str {
        self.creds
            .get(key)
            .and_then(|v| v.as_str())
            .unwrap_or_default()
    }
}

/// 404 for an unknown id, another kind or a disabled channel; 500 if it cannot be read.
pub async fn load(
    state: &AppState,
    channel_id: &str,
    kind: ChannelKind,
) -> Result<LoadedChannel, Response> {
    let not_found = || reply(StatusCode::NOT_FOUND, "unknown channel");
    let id = ChannelId::parse(channel_id).map_err(|_| not_found())?;
    let found = async {
        let mut conn = state.db.pool().acquire().await?;
        let Some(row) = channels::by_id_unscoped(&mut conn, &id).await? else {
            return Ok(None);
        };
        if row.kind != kind.as_str() || row.enabled == 0 {
            return Ok(None);
        }
        let creds = state.cipher.decrypt_json(&row.credentials_enc)?;
        anyhow::Ok(Some((row, creds)))
    };
    // Into the endpoint's `webhook` span: our id, never the provider's.
    tracing::Span::current().record("channel", tracing::field::display(&id));
    match found.await {
        Ok(Some((row, creds))) => Ok(LoadedChannel {
            endpoints: row.endpoints(),
            clinic: row.clinic(),
            id,
            creds,
        }),
        Ok(None) => Err(not_found()),
        Err(e) => {
            tracing::error!(error = %format!("{e:#}"), %kind, "loading the channel for a webhook");
            Err(reply(StatusCode::INTERNAL_SERVER_ERROR, "internal error"))
        }
    }
}

/// A Meta delivery (WhatsApp, Messenger) read, its channel loaded and its
/// `X-Hub-Signature-256` verified on the raw bytes with the app secret; anything else is the
/// response to give (413, 404, 401), with nothing stored.
pub async fn meta_verified(
    state: &AppState,
    channel_id: &str,
    kind: ChannelKind,
    req: axum::extract::Request,
) -> Result<(LoadedChannel, bytes::Bytes), Response> {
    let (parts, body) = req.into_parts();
    let raw = read_capped(body, state.settings.webhooks.max_body_bytes).await?;
    let ch = load(state, channel_id, kind).await?;
    let sig = parts
        .headers
        .get("x-hub-signature-256")
        .and_then(|v| v.to_str().ok());
    if !tsunagu_channels::whatsapp::signature::verify(ch.cred("app_secret"), &raw, sig) {
        tracing::warn!(channel = %ch.id, %kind, "webhook with a missing or wrong signature refused");
        return Err(reply(StatusCode::UNAUTHORIZED, "bad signature"));
    }
    Ok((ch, raw))
}

/// After ingest: 200 with open inboxes told, or 500 (not committed: the provider retries and
/// the dedupe keys make that safe).
pub fn stored(
    state: &AppState,
    ch: &LoadedChannel,
    kind: ChannelKind,
    report: anyhow::Result<tsunagu_inbox::ingest::IngestReport>,
) -> Response {
    match report {
        Ok(r) => {
            let span = tracing::Span::current();
            span.record("new", r.new_events);
            span.record("duplicate", r.duplicate_events);
            tracing::info!("delivery stored");
            publish(
                state,
                &ch.clinic,
                &r.touched_conversations,
                "message.created",
            );
            reply(StatusCode::OK, "ok")
        }
        Err(e) => {
            tracing::error!(error = %format!("{e:#}"), channel = %ch.id, %kind, "storing a delivery");
            reply(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
        }
    }
}

/// Tells open inboxes about conversations a committed delivery changed.
pub fn publish(state: &AppState, clinic: &ClinicId, conversations: &[String], kind: &'static str) {
    for conv in conversations {
        state.live.publish(LiveEvent {
            clinic_id: clinic.to_string(),
            conversation_id: conv.clone(),
            kind,
        });
    }
}

/// `GET /webhooks/{whatsapp|messenger}/{channel_id}`: Meta's subscription handshake. The
/// right verify token → 200 with the challenge as the body; anything else → 403.
pub async fn meta_handshake(
    state: &AppState,
    channel_id: &str,
    kind: ChannelKind,
    q: &HashMap<String, String>,
) -> Response {
    let ch = match load(state, channel_id, kind).await {
        Ok(c) => c,
        Err(r) => return r,
    };
    let get = |k: &str| q.get(k).map(String::as_str);
    match tsunagu_channels::whatsapp::verification::handshake(
        get("hub.mode"),
        get("hub.verify_token"),
        get("hub.challenge"),
        ch.cred("verify_token"),
    ) {
        Ok(challenge) => (StatusCode::OK, challenge).into_response(),
        Err(()) => {
            tracing::warn!(channel = %ch.id, %kind, "webhook verification with a wrong token refused");
            reply(StatusCode::FORBIDDEN, "verification failed")
        }
    }
}

#[tracing::instrument(name = "webhook", skip_all, fields(kind = "whatsapp", channel = Empty))]
pub async fn whatsapp_handshake(
    State(state): State<AppState>,
    Path(channel_id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    meta_handshake(&state, &channel_id, ChannelKind::WhatsApp, &q).await
}

#[tracing::instrument(name = "webhook", skip_all, fields(kind = "messenger", channel = Empty))]
pub async fn messenger_handshake(
    State(state): State<AppState>,
    Path(channel_id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    meta_handshake(&state, &channel_id, ChannelKind::Messenger, &q).await
}
