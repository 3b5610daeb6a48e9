//! `/api/v1/automation/faq-menu`: the FAQ menu (よくある質問メニュー) as one document. Anyone
//! who may read messages reads it; administrators replace it whole (PUT). A patient gets it by
//! メニュー / よくある質問 / FAQ, a rich menu area (postback `faq`, or `faq:<item id>` for one
//! answer) or after the greeting, rendered each channel's native way; a tap, the question or a
//! typed number answers with the clinic's text.
use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use tsunagu_automation::faq::{self, Draft, ItemDraft, Menu};
use tsunagu_core::Permission;
use utoipa::ToSchema;

use super::auth::{audit_change, ApiAuth, Event};
use super::extract::{ApiJson, ErrorBody};
use super::read_conn;
use crate::client_ip::ClientIp;
use crate::{ApiError, AppState};

#[derive(Deserialize, Serialize, ToSchema)]
pub struct FaqItem {
    /// Absent on a new item; kept when given back (a menu already shown still answers it).
    #[serde(default)]
    pub id: Option<String>,
    /// 1–20 characters (LINE quick reply and WhatsApp button labels); no two read the same.
    #[schema(example = "駐車場")]
    pub question: String,
    /// 1–1000 characters, the clinic's own words. Nothing clinical: symptoms go to staff.
    #[schema(example = "駐車場は建物の裏に5台分ございます。")]
    pub answer: String,
}

#[derive(Deserialize, Serialize, ToSchema)]
pub struct FaqMenuDoc {
    /// The text above the choices, 1–500 characters.
    #[schema(example = "よくあるご質問です。知りたい項目をお選びください。")]
    pub intro_text: String,
    /// Channel kinds it is offered on: `line`, `whatsapp`, `messenger`, `sms`.
    #[schema(example = json!(["line", "whatsapp", "messenger", "sms"]))]
    pub channels: Vec<String>,
    /// Also sent after the greeting on friend-add or first contact.
    pub in_greeting: bool,
    /// Up to 10, in the order shown (numbered on SMS).
    pub items: Vec<FaqItem>,
}

fn out(m: Menu) -> FaqMenuDoc {
    FaqMenuDoc {
        intro_text: m.intro_text,
        channels: m.channels,
        in_greeting: m.in_greeting,
        items: m
            .items
            .into_iter()
            .map(|i| FaqItem {
                id: Some(i.id),
                question: i.question,
                answer: i.answer,
            })
            .collect(),
    }
}

/// Read the FAQ menu (the default intro with no items when never saved).
///
/// Scope: `read_messages` (token scopes `read`, `reply`, `admin`).
#[utoipa::path(
    get,
    path = "/api/v1/automation/faq-menu",
    tag = "automation",
    responses(
        (status = 200, description = "The clinic's FAQ menu", body = FaqMenuDoc),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "The token lacks `read_messages`", body = ErrorBody),
    )
)]
pub async fn get(
    State(state): State<AppState>,
    auth: ApiAuth,
) -> Result<Json<FaqMenuDoc>, ApiError> {
    auth.require(Permission::ReadMessages)?;
    let mut conn = read_conn(&state).await?;
    Ok(Json(out(faq::load(&mut conn, &auth.clinic).await?)))
}

/// Replace the FAQ menu: items in the order given; items left out are removed.
///
/// Scope: `administer` (token scope `admin`). Audited as `api.automation.faq_menu.update`.
#[utoipa::path(
    put,
    path = "/api/v1/automation/faq-menu",
    tag = "automation",
    request_body = FaqMenuDoc,
    responses(
        (status = 200, description = "As now saved, with item ids", body = FaqMenuDoc),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "The token lacks `administer`", body = ErrorBody),
        (status = 422, description = "`invalid_faq_menu` (the message says which field), `invalid_request`", body = ErrorBody),
    )
)]
pub async fn put(
    State(state): State<AppState>,
    auth: ApiAuth,
    ip: ClientIp,
    ApiJson(body): ApiJson<FaqMenuDoc>,
) -> Result<Json<FaqMenuDoc>, ApiError> {
    auth.require(Permission::Administer)?;
    let draft = Draft {
        intro_text: body.intro_text,
        channels: body.channels,
        in_greeting: body.in_greeting,
        items: body
            .items
            .into_iter()
            .map(|i| ItemDraft {
                id: i.id,
                question: i.question,
                answer: i.answer,
            })
            .collect(),
    };
    let mut tx = state.db.begin().await?;
    let menu = faq::save(tx.conn(), &auth.clinic, &draft, state.now_ms()).await??;
    let clinic = auth.clinic.as_str().to_string();
    let event = Event {
        action: "api.automation.faq_menu.update",
        subject_type: "faq_menu",
        subject_ids: &[clinic.as_str()],
    };
    audit_change(&mut tx, &state, &auth, &ip, event).await?;
    tx.commit().await?;
    Ok(Json(out(menu)))
}
