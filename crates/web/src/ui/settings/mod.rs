//! Clinic settings, for owners and admins (everyone else gets 403): the clinic calendar at
//! `/app/settings/calendar`, the channels at `/app/settings/channels` and each WhatsApp channel's
//! message templates, the conversation labels at `/app/settings/labels`. Forms post back here and redirect to the page (or re-render it with the
//! error and what was typed); every change commits with its audit entry.
mod calendar;
mod calendar_view;
mod channel_templates;
mod channels;
mod channels_form;
mod labels;

use axum::response::Redirect;
use axum::routing::{get, post};
use axum::Router;

use crate::client_ip::ClientIp;
use crate::ui::render;
use crate::ui::session::Staff;
use crate::{AppState, PageError};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/app/settings",
            get(|| async { Redirect::to("/app/settings/calendar") }),
        )
        .route("/app/settings/calendar", get(calendar::page))
        .route("/app/settings/calendar/hours", post(calendar::save_hours))
        .route(
            "/app/settings/calendar/closures",
            post(calendar::add_closure),
        )
        .route(
            "/app/settings/calendar/closures/{id}/delete",
            post(calendar::delete_closure),
        )
        .route(
            "/app/settings/calendar/holidays/{date}",
            post(calendar::set_holiday),
        )
        .route(
            "/app/settings/channels",
            get(channels::page).post(channels::create),
        )
        .route(
            "/app/settings/labels",
            get(labels::page).post(labels::create),
        )
        .route("/app/settings/labels/{id}/delete", post(labels::delete))
        .route(
            "/app/settings/channels/{id}/enabled",
            post(channels::enable),
        )
        .route(
            "/app/settings/channels/{id}/templates",
            get(channel_templates::page).post(channel_templates::create),
        )
        .route(
            "/app/settings/channels/{id}/templates/sync",
            post(channel_templates::sync),
        )
        .route(
            "/app/settings/channels/{id}/templates/{template_id}/status",
            post(channel_templates::set_status),
        )
        .route(
            "/app/settings/channels/{id}/templates/{template_id}/delete",
            post(channel_templates::delete),
        )
}

/// Who changed a setting, as stored beside it.
fn actor_ref(staff: &Staff) -> String {
    format!("staff:{}", staff.staff_id)
}

/// Records a change inside the transaction that made it.
async fn audit_change(
    tx: &mut tsunagu_store::Tx,
    state: &AppState,
    staff: &Staff,
    ip: &ClientIp,
    action: &str,
    subject: (&str, &[&str]),
) -> Result<(), PageError> {
    crate::ui::audit_staff(Some(tx), state, staff, ip, (action, subject.0), subject.1).await
}
