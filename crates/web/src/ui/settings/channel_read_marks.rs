//! `POST /app/settings/channels/{id}/mark-read`: whether opening a conversation shows the
//! patient 既読 (LINE's markAsRead). Only for channels whose provider can say so; LINE honours
//! it only while the account's chat setting is on, so the clinic switches it on knowingly.
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use tsunagu_channels::ChannelKind;
use tsunagu_core::{ChannelId, Permission};
use tsunagu_store::channels;

use super::audit_change;
use crate::client_ip::ClientIp;
use crate::ui::session::{CsrfForm, Staff};
use crate::{AppState, PageError};

#[derive(Deserialize)]
pub struct MarkReadForm {
    /// 1 to switch on, 0 to switch off.
    #[serde(default)]
    on: String,
}

pub async fn set(
    State(state): State<AppState>,
    ip: ClientIp,
    Path(id): Path<String>,
    staff: Staff,
    CsrfForm(form): CsrfForm<MarkReadForm>,
) -> Result<Response, PageError> {
    staff.require(Permission::Administer)?;
    let id = ChannelId::parse(&id).map_err(|_| PageError::not_found())?;
    let clinic = staff.clinic.clinic_id();
    let on = form.on == "1";
    let mut tx = state.db.begin().await?;
    let Some(ch) = channels::by_id(tx.conn(), &clinic, &id).await? else {
        return Err(PageError::not_found());
    };
    // A provider that cannot mark read has no such setting: nothing here changes.
    if !ChannelKind::parse(&ch.kind).is_some_and(|k| k.rules().marks_read) {
        return Err(PageError::not_found());
    }
    channels::set_mark_read_on_open(tx.conn(), &clinic, &id, on).await?;
    let action = if on {
        "ui.channel.mark_read_on"
    } else {
        "ui.channel.mark_read_off"
    };
    let subject = ("channel", &[id.as_str()][..]);
    audit_change(&mut tx, &state, &staff, &ip, action, subject).await?;
    tx.commit().await?;
    let done = if on { "mark_read_on" } else { "mark_read_off" };
    Ok(Redirect::to(&format!("/app/settings/channels?saved={done}")).into_response())
}
