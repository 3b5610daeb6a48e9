//! `POST /app/settings/flows/{id}/preview`: the draft played on the server by the same pure
//! engine that runs in chat, with the answers typed into the page's box so far; nothing is
//! stored or sent. `static/flow_preview.js` keeps the answers and shows the bot's replies.
use axum::extract::{Path, State};
use axum::Json;
use serde::{Deserialize, Serialize};
use tsunagu_automation::flows::{preview as play, store, Action, Say, State as RunState};
use tsunagu_core::Permission;

use super::flows::problem_text;
use crate::i18n::text;
use crate::ui::conn;
use crate::ui::session::{CsrfForm, Staff};
use crate::{AppState, PageError};

#[derive(Debug, Default, Deserialize)]
pub struct PreviewForm {
    /// A JSON array of the answers typed so far, in order.
    #[serde(default)]
    pub answers: String,
}

#[derive(Serialize)]
pub struct Turn {
    /// `bot` or `note` (what the flow did, in the staff's words).
    from: &'static str,
    text: String,
    options: Vec<String>,
}

#[derive(Serialize)]
pub struct Preview {
    turns: Vec<Turn>,
    /// The run's state in the staff's words.
    state: String,
    running: bool,
    problems: Vec<String>,
}

fn turns(lang: &str, actions: &[Action], out: &mut Vec<Turn>) {
    for a in actions {
        let (from, text, options) = match a {
            Action::Say(Say::Text { text }) => ("bot", text.clone(), Vec::new()),
            Action::Say(Say::Choice { text, options }) => ("bot", text.clone(), options.clone()),
            Action::Tag(t) => ("note", note(lang, "tag", t), Vec::new()),
            Action::SetField { field, value } => (
                "note",
                note(lang, "field", &format!("{field} = {value}")),
                Vec::new(),
            ),
            Action::SetPriority(p) => (
                "note",
                note(
                    lang,
                    "priority",
                    &text(lang, &format!("flows.priority.{p}")),
                ),
                Vec::new(),
            ),
            Action::AssignTeam(_) => ("note", note(lang, "team", ""), Vec::new()),
            Action::Webhook { completed, .. } => {
                let what = if *completed {
                    "flow.completed"
                } else {
                    "flow.step"
                };
                ("note", note(lang, "webhook", what), Vec::new())
            }
            Action::HandOver => ("note", note(lang, "handover", ""), Vec::new()),
        };
        out.push(Turn {
            from,
            text,
            options,
        });
    }
}

fn note(lang: &str, what: &str, detail: &str) -> String {
    crate::i18n::text_with(
        lang,
        &format!("flows.preview.note.{what}"),
        &[("detail", detail)],
    )
}

pub async fn preview(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<PreviewForm>,
) -> Result<Json<Preview>, PageError> {
    staff.require(Permission::Reply)?;
    let lang = staff.lang;
    let clinic = staff.clinic.clinic_id();
    let mut c = conn(&state).await?;
    let flow = store::get(&mut c, &clinic, &id)
        .await?
        .ok_or_else(PageError::not_found)?;
    let tz = tsunagu_store::clinics::by_id(&mut c, &clinic)
        .await?
        .and_then(|c| c.timezone.parse::<chrono_tz::Tz>().ok())
        .unwrap_or(chrono_tz::Asia::Tokyo);
    drop(c);
    let def = flow.draft();
    let problems: Vec<String> = def.check().iter().map(|p| problem_text(lang, p)).collect();
    if !problems.is_empty() {
        return Ok(Json(Preview {
            turns: Vec::new(),
            state: text(lang, "flows.preview.cannot"),
            running: false,
            problems,
        }));
    }
    let answers: Vec<String> = serde_json::from_str(&form.answers).unwrap_or_default();
    let today = tsunagu_core::clock::from_ms(state.now_ms())
        .with_timezone(&tz)
        .date_naive();
    let played = play::play(&def, &answers, today);
    let mut out = Vec::new();
    for t in &played.turns {
        if let Some(a) = &t.answer {
            out.push(Turn {
                from: "patient",
                text: a.clone(),
                options: Vec::new(),
            });
        }
        turns(lang, &t.actions, &mut out);
    }
    let run = played;
    Ok(Json(Preview {
        turns: out,
        state: text(lang, &format!("flows.run.{}", run.state.as_str())),
        running: run.state == RunState::Running,
        problems,
    }))
}
