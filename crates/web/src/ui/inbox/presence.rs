//! The collision warning: 「佐藤さんもこの会話を見ています」. An open conversation page beats
//! `POST /app/conversations/{id}/presence` (`state=viewing|typing`) every ~10 s and while its
//! reply box is typed in; `GET` the same path answers, as JSON, who ELSE here has it open, with
//! the banner's words. Presence lives in the hub's memory (shared through NOTIFY on PostgreSQL),
//! never in the database, and is not audited: opening the conversation already was.
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};
use tsunagu_core::{Permission, Role};
use tsunagu_inbox::live::presence::{Activity, Beat};
use tsunagu_inbox::routing::availability;

use super::{conn, conversation};
use crate::i18n;
use crate::ui::session::{CsrfForm, Staff};
use crate::{AppState, PageError};

/// `csrf_token` is checked by `CsrfForm` before this is parsed.
#[derive(Debug, Deserialize)]
pub struct BeatForm {
    pub state: String,
}

#[derive(Debug, Serialize)]
pub struct Other {
    pub name: String,
    pub state: &'static str,
}

#[derive(Debug, Serialize)]
pub struct Answer {
    pub others: Vec<Other>,
    /// The banner, one sentence per line (typing first); empty when nobody else is here.
    pub lines: Vec<String>,
}

pub async fn beat(
    staff: Staff,
    State(state): State<AppState>,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<BeatForm>,
) -> Result<Response, PageError> {
    staff.require(Permission::ReadMessages)?;
    let activity = Activity::parse(&form.state).ok_or_else(PageError::not_found)?;
    let conv = conversation::find(&state, &staff, &id).await?;
    state.live.beat(Beat {
        clinic_id: staff.clinic.id.clone(),
        conversation_id: conv.id.clone(),
        staff_id: staff.staff_id.to_string(),
        activity,
        at_ms: state.now_ms(),
    });
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub async fn others(
    staff: Staff,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Answer>, PageError> {
    staff.require(Permission::ReadMessages)?;
    let conv = conversation::find(&state, &staff, &id).await?;
    let present = state
        .live
        .present(&staff.clinic.id, &conv.id, state.now_ms());
    let me = staff.staff_id.to_string();
    let present: Vec<_> = present.into_iter().filter(|(s, _)| *s != me).collect();
    let mut others = Vec::new();
    if !present.is_empty() {
        // Only current members here who may read messages (a beat outlives a role change).
        let mut conn = conn(&state).await?;
        let people = availability::list(&mut conn, &staff.clinic.clinic_id()).await?;
        for (staff_id, activity) in present {
            let Some(p) = people.iter().find(|p| p.staff_id == staff_id) else {
                continue;
            };
            if p.role
                .parse::<Role>()
                .is_ok_and(|r| r.can(Permission::ReadMessages))
            {
                others.push(Other {
                    name: p.display_name.clone(),
                    state: activity.as_str(),
                });
            }
        }
    }
    let lines = banner(staff.lang, &others);
    Ok(Json(Answer { others, lines }))
}

fn banner(lang: &str, others: &[Other]) -> Vec<String> {
    let sep = i18n::text(lang, "presence.separator");
    let names = |state: &str| {
        others
            .iter()
            .filter(|o| o.state == state)
            .map(|o| o.name.as_str())
            .collect::<Vec<_>>()
            .join(&sep)
    };
    let mut lines = Vec::new();
    for (state, key) in [
        ("typing", "presence.typing"),
        ("viewing", "presence.viewing"),
    ] {
        let who = names(state);
        if !who.is_empty() {
            lines.push(i18n::text(lang, key).replace("{names}", &who));
        }
    }
    lines
}
