//! `POST /api/v1/channels/{id}/templates/sync`: submit a WhatsApp channel's draft templates to
//! Meta and record every template's review state, in the background (`whatsapp.sync_templates`).
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Serialize;
use tsunagu_channels::ChannelKind;
use tsunagu_core::Permission;
use tsunagu_store::templates;
use utoipa::ToSchema;

use super::auth::{audit_change, ApiAuth, Event};
use super::extract::{ErrorBody, IdPath};
use super::idempotent::IdempotencyKey;
use super::templates::channel;
use crate::client_ip::ClientIp;
use crate::{ApiError, AppState};

#[derive(Serialize, ToSchema)]
pub struct SyncQueued {
    /// `false` when a sync for this channel was already queued in the last minute.
    pub queued: bool,
}

/// Sync templates with Meta.
///
/// Scope: `administer` (token scope `admin`). Drafts are submitted for review (then `pending`),
/// and the review state Meta reports for every template (`approved`, `rejected`, `paused`,
/// `disabled`) is recorded. Runs as a job; read the result with `GET …/templates`. Audited as
/// `api.template.sync`.
#[utoipa::path(
    post,
    path = "/api/v1/channels/{id}/templates/sync",
    tag = "channels",
    params(("id" = String, Path, description = "Channel id"), IdempotencyKey),
    responses(
        (status = 202, description = "Queued", body = SyncQueued),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "The token lacks `administer`", body = ErrorBody),
        (status = 404, description = "No such channel in this clinic", body = ErrorBody),
        (status = 422, description = "`templates_unsupported` (not a WhatsApp channel)", body = ErrorBody),
    )
)]
pub async fn sync(
    State(state): State<AppState>,
    auth: ApiAuth,
    ip: ClientIp,
    IdPath(id): IdPath,
) -> Result<(StatusCode, Json<SyncQueued>), ApiError> {
    auth.require(Permission::Administer)?;
    let ch = channel(&state, &auth.clinic, &id).await?;
    if !ChannelKind::parse(&ch.kind).is_some_and(|k| k.rules().templates) {
        return Err(super::templates::templates_unsupported());
    }
    let mut tx = state.db.begin().await?;
    let queued =
        templates::enqueue_sync(tx.conn(), &auth.clinic, &ch.channel_id(), state.now_ms()).await?;
    let event = Event {
        action: "api.template.sync",
        subject_type: "channel",
        subject_ids: &[ch.id.as_str()],
    };
    audit_change(&mut tx, &state, &auth, &ip, event).await?;
    tx.commit().await?;
    Ok((StatusCode::ACCEPTED, Json(SyncQueued { queued })))
}
