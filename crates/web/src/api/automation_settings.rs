//! `/api/v1/automation/settings`: the away message, the words that reach a person, the quiet
//! window and each channel's greeting (with its consent question), as the 自動応答 settings page
//! shows them. Checked by the same `tsunagu_automation::{settings, greetings}` the page calls; a
//! PUT changes all of it in one transaction or none of it.
use axum::extract::State;
use axum::Json;
use serde::{Deserialize, Serialize};
use tsunagu_automation::{greetings, settings};
use tsunagu_core::Permission;
use utoipa::ToSchema;

use super::auth::{audit_change, ApiAuth, Event};
use super::extract::{ApiJson, ErrorBody};
use super::read_conn;
use crate::client_ip::ClientIp;
use crate::{ApiError, AppState};

#[derive(Serialize, Deserialize, ToSchema)]
pub struct AwayIo {
    /// Answer patients who write outside opening hours (by the clinic calendar).
    pub enabled: bool,
    /// 1–5000 characters with the canned responses' variables; the next opening is added after it.
    #[schema(example = "ただいま診療時間外です。{{clinic.phone}}")]
    pub text: String,
    /// At most once per conversation in this many hours (1–168).
    #[schema(example = 12)]
    pub every_hours: i64,
}

#[derive(Serialize, Deserialize, ToSchema)]
pub struct GreetingIo {
    pub channel_id: String,
    /// Sent once per patient when they add the clinic or first write on this channel.
    pub enabled: bool,
    /// 1–5000 characters with the canned responses' variables.
    pub text: String,
    /// Follow the greeting with the consent question per purpose.
    pub ask_consent: bool,
    /// Offer to verify identity (link to the patient record) after the greeting.
    pub offer_verification: bool,
}

#[derive(Serialize, ToSchema)]
pub struct AutomationSettingsOut {
    pub away: AwayIo,
    /// A patient's message containing one of these (width, kana and case ignored) goes to a person.
    #[schema(example = json!(["スタッフ", "人と話したい"]))]
    pub escape_words: Vec<String>,
    /// A staff reply within this many minutes keeps automation quiet (0 turns it off).
    pub quiet_minutes: i64,
    /// One per channel of the clinic; a channel never configured shows the default, off.
    pub greetings: Vec<GreetingIo>,
}

/// The whole settings; `greetings` lists only the channels to change.
#[derive(Deserialize, ToSchema)]
pub struct AutomationSettingsIn {
    pub away: AwayIo,
    /// 1–20 words, each up to 50 characters (never empty: a patient can always reach a person).
    /// Read as the settings page reads its box: 、 and commas separate words too; repeats go.
    pub escape_words: Vec<String>,
    /// 0–1440.
    pub quiet_minutes: i64,
    #[serde(default)]
    pub greetings: Vec<GreetingIo>,
}

async fn read(
    conn: &mut sqlx::AnyConnection,
    auth: &ApiAuth,
) -> Result<AutomationSettingsOut, ApiError> {
    let s = settings::load(conn, &auth.clinic).await?;
    let stored = greetings::list(conn, &auth.clinic).await?;
    let channels = tsunagu_store::channels::list(&mut *conn, &auth.clinic).await?;
    let greetings = channels
        .iter()
        .map(|c| match stored.iter().find(|g| g.channel_id == c.id) {
            Some(g) => GreetingIo {
                channel_id: c.id.clone(),
                enabled: g.enabled,
                text: g.greeting_text.clone(),
                ask_consent: g.ask_consent,
                offer_verification: g.offer_verification,
            },
            // What the settings page offers for a channel never saved.
            None => GreetingIo {
                channel_id: c.id.clone(),
                enabled: false,
                text: greetings::DEFAULT_GREETING.into(),
                ask_consent: true,
                offer_verification: true,
            },
        })
        .collect();
    Ok(AutomationSettingsOut {
        away: AwayIo {
            enabled: s.away_enabled,
            text: s.away_text,
            every_hours: s.away_every_hours,
        },
        escape_words: s.escape_words,
        quiet_minutes: s.quiet_minutes,
        greetings,
    })
}

/// Read the automation settings.
///
/// Scope: `read_messages` (token scopes `read`, `reply`, `admin`).
#[utoipa::path(
    get,
    path = "/api/v1/automation/settings",
    tag = "automation",
    responses(
        (status = 200, description = "The settings and every channel's greeting", body = AutomationSettingsOut),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "The token lacks `read_messages`", body = ErrorBody),
    )
)]
pub async fn get(
    State(state): State<AppState>,
    auth: ApiAuth,
) -> Result<Json<AutomationSettingsOut>, ApiError> {
    auth.require(Permission::ReadMessages)?;
    let mut conn = read_conn(&state).await?;
    Ok(Json(read(&mut conn, &auth).await?))
}

/// Replace the automation settings (and the greetings listed).
///
/// Scope: `administer` (token scope `admin`). Nothing changes unless every part is valid.
/// Audited as `api.automation.settings.update` and `api.automation.greeting.update` per channel.
#[utoipa::path(
    put,
    path = "/api/v1/automation/settings",
    tag = "automation",
    request_body = AutomationSettingsIn,
    responses(
        (status = 200, description = "As now saved", body = AutomationSettingsOut),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "The token lacks `administer`", body = ErrorBody),
        (status = 404, description = "A greeting's channel is not this clinic's", body = ErrorBody),
        (status = 422, description = "`invalid_automation_text`, `unknown_canned_variable`, `invalid_automation_number`, `invalid_escape_words`, `invalid_request`", body = ErrorBody),
    )
)]
pub async fn put(
    State(state): State<AppState>,
    auth: ApiAuth,
    ip: ClientIp,
    ApiJson(body): ApiJson<AutomationSettingsIn>,
) -> Result<Json<AutomationSettingsOut>, ApiError> {
    auth.require(Permission::Administer)?;
    // The page's form: words one per line, numbers as typed.
    let draft = settings::Draft {
        away_enabled: body.away.enabled,
        away_text: body.away.text,
        away_every_hours: body.away.every_hours.to_string(),
        escape_words: body.escape_words.join("\n"),
        quiet_minutes: body.quiet_minutes.to_string(),
    };
    let checked = draft.check()?;
    let now = state.now_ms();
    let mut tx = state.db.begin().await?;
    settings::save(tx.conn(), &auth.clinic, &checked, now).await?;
    let clinic = auth.clinic.as_str().to_string();
    let event = Event {
        action: "api.automation.settings.update",
        subject_type: "clinic",
        subject_ids: &[&clinic],
    };
    audit_change(&mut tx, &state, &auth, &ip, event).await?;
    for g in &body.greetings {
        let d = greetings::Draft {
            enabled: g.enabled,
            greeting_text: g.text.clone(),
            ask_consent: g.ask_consent,
            offer_verification: g.offer_verification,
        };
        // A refusal drops the transaction: the settings above are not saved either.
        greetings::save(tx.conn(), &auth.clinic, &g.channel_id, &d, now).await??;
        let event = Event {
            action: "api.automation.greeting.update",
            subject_type: "channel",
            subject_ids: &[g.channel_id.as_str()],
        };
        audit_change(&mut tx, &state, &auth, &ip, event).await?;
    }
    let out = read(tx.conn(), &auth).await?;
    tx.commit().await?;
    Ok(Json(out))
}
