//! The inbox, where reception and nurses spend the day: the conversation list, one conversation
//! with its messages and the reply box, assignment, retrying a failed reply, attachments, and the
//! live stream that keeps open pages current. Pages are server-rendered; `static/app.js` swaps in re-rendered fragments on events.
mod assign;
mod attachments;
mod bulk;
mod canned_picker;
mod conversation;
mod list;
mod list_filter;
mod live;
mod messages;
mod notes;
mod presence;
use tsunagu_store::inbox_views as queries;
mod reply;
mod reply_gate;
mod retry;
mod saved_views;
mod scheduled;
pub mod shell;
mod side_panel;
mod sla_view;
mod state;
mod state_view;
mod tabs;
mod template_send;
mod triage_view;
pub mod view;

use axum::response::Redirect;
use axum::routing::{get, post};
use axum::Router;
use tsunagu_core::ClinicId;

use crate::client_ip::ClientIp;
use crate::ui::session::Staff;
use crate::ui::{conn, render};
use crate::{AppState, PageError};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/app", get(|| async { Redirect::to("/app/inbox") }))
        .route("/app/inbox", get(list::page))
        .route("/app/inbox/fragment", get(list::fragment))
        .route("/app/inbox/views", post(saved_views::create))
        .route("/app/inbox/views/{id}/rename", post(saved_views::rename))
        .route("/app/inbox/views/{id}/delete", post(saved_views::delete))
        .route("/app/conversations/bulk", post(bulk::apply))
        .route("/app/conversations/{id}", get(conversation::page))
        .route(
            "/app/conversations/{id}/fragment",
            get(conversation::fragment),
        )
        .route("/app/conversations/{id}/reply", post(reply::send))
        .route(
            "/app/conversations/{id}/template",
            post(template_send::send),
        )
        .route("/app/conversations/{id}/assign", post(assign::assign))
        .route("/app/conversations/{id}/notes", post(notes::add))
        .route(
            "/app/conversations/{id}/presence",
            get(presence::others).post(presence::beat),
        )
        .route("/app/mentions", get(notes::page))
        .route("/app/mentions/count", get(notes::count))
        .route("/app/conversations/{id}/scheduled", post(scheduled::create))
        .route(
            "/app/conversations/{id}/scheduled/{sid}",
            post(scheduled::edit),
        )
        .route(
            "/app/conversations/{id}/scheduled/{sid}/cancel",
            post(scheduled::cancel),
        )
        .route("/app/conversations/{id}/canned", get(canned_picker::offers))
        .route("/app/conversations/{id}/status", post(state::set_status))
        .route(
            "/app/conversations/{id}/priority",
            post(state::set_priority),
        )
        .route("/app/conversations/{id}/labels", post(state::set_label))
        .route("/app/messages/{id}/retry", post(retry::retry))
        .route("/app/attachments/{id}", get(attachments::serve))
        .route("/app/live", get(live::stream))
}

/// An entry in the trail, always written (a page view, a reply).
async fn audit_event(
    state: &AppState,
    staff: &Staff,
    ip: &ClientIp,
    action: &str,
    subject_type: &str,
    ids: &[&str],
) -> Result<(), PageError> {
    crate::ui::audit_staff(None, state, staff, ip, (action, subject_type), ids).await
}

/// A repeated read (a live refresh, an image shown again): written unless the same staff member
/// read the same subjects within the last minute. The check reads the trail itself, so every
/// instance of the server agrees and nothing is kept in memory.
async fn audit_throttled(
    state: &AppState,
    staff: &Staff,
    ip: &ClientIp,
    action: &str,
    subject_type: &str,
    ids: &[&str],
) -> Result<(), PageError> {
    const WINDOW_MS: i64 = 60_000;
    let clinic: ClinicId = staff.clinic.clinic_id();
    let staff_id = staff.staff_id.to_string();
    let subject_json = serde_json::to_string(ids).map_err(anyhow::Error::from)?;
    let now = state.now_ms();
    // A plain read first: most refreshes end here, without queueing for the (SQLite) writer.
    // Two refreshes racing past it both write, which errs on the side of the trail.
    let mut conn = conn(state).await?;
    if queries::recently_audited(
        &mut conn,
        &clinic,
        &staff_id,
        action,
        &subject_json,
        now - WINDOW_MS,
    )
    .await?
    {
        return Ok(());
    }
    drop(conn);
    audit_event(state, staff, ip, action, subject_type, ids).await
}

/// A `before=<ms>.<id>` cursor; anything malformed means "from the newest".
fn parse_cursor(s: Option<&str>) -> Option<(i64, String)> {
    let (at, id) = s?.split_once('.')?;
    let at = at.parse::<i64>().ok()?;
    let id = uuid::Uuid::try_parse(id).ok()?;
    Some((at, id.to_string()))
}

fn cursor_param(at: i64, id: &str) -> String {
    format!("{at}.{id}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_round_trips_and_garbage_is_ignored() {
        let id = tsunagu_core::new_id();
        assert_eq!(parse_cursor(Some(&cursor_param(42, &id))), Some((42, id)));
        assert_eq!(parse_cursor(Some("42.' OR 1=1")), None);
        assert_eq!(parse_cursor(Some("x.y")), None);
        assert_eq!(parse_cursor(None), None);
    }
}
