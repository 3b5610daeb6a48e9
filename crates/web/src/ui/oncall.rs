//! The on-call alert in the browser. The triage job publishes `oncall.alert` (a conversation id,
//! clinic-wide); every open page asks `GET /app/oncall/alerts`, which answers for the person
//! asking only: how many urgent conversations they were called to that nobody has opened, and
//! a link to the newest — no names, no words. `static/app.js` (`refreshOncall`) shows the header's badge and a
//! browser notification. Opening the conversation page (`opened`) answers its alerts, the
//! signal escalation waits for.
use axum::extract::State;
use axum::response::Json;
use axum::routing::get;
use axum::Router;
use tsunagu_core::Permission;
use tsunagu_inbox::LiveEvent;
use tsunagu_safety::alerts;
use tsunagu_store::conversations::Conversation;

use crate::ui::conn;
use crate::ui::session::Staff;
use crate::{AppState, PageError};

pub fn router() -> Router<AppState> {
    Router::new().route("/app/oncall/alerts", get(mine))
}

/// `GET /app/oncall/alerts`: `{"count": n, "href": "/app/conversations/…" | null}`.
pub async fn mine(
    staff: Staff,
    State(state): State<AppState>,
) -> Result<Json<serde_json::Value>, PageError> {
    staff.require(Permission::ReadMessages)?;
    let mut c = conn(&state).await?;
    let clinic = staff.clinic.clinic_id();
    let open = alerts::pending_for(&mut c, &clinic, staff.staff_id.as_str()).await?;
    let href = open.first().map(|id| format!("/app/conversations/{id}"));
    Ok(Json(
        serde_json::json!({ "count": open.len(), "href": href }),
    ))
}

/// A staff member has the conversation open: its alerts stop escalating, and the pages of
/// those called drop their badge.
pub async fn opened(state: &AppState, staff: &Staff, conv: &Conversation) -> Result<(), PageError> {
    let clinic = staff.clinic.clinic_id();
    let mut c = conn(state).await?;
    let who = staff.staff_id.as_str();
    if alerts::opened(&mut c, &clinic, &conv.id, who, state.now_ms()).await? > 0 {
        state.live.publish(LiveEvent {
            clinic_id: staff.clinic.id.clone(),
            conversation_id: conv.id.clone(),
            kind: "oncall.alert",
        });
    }
    Ok(())
}
