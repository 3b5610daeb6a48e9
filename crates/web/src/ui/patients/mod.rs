//! `/app/patients`: the clinic's patient records — list and search, the record page with its
//! edit form, channel identities and conversations, a new-record form, CSV import with a dry
//! run, and the custom field settings. Consent and identity verification have their own pages
//! (`/app/patients/{id}/consent`, `/app/patients/{id}/identity`), linked from the record.
mod fields;
mod form;
mod import;
mod list;
pub(crate) mod multipart;
mod show;

pub(crate) use form::language_name;

use axum::extract::{DefaultBodyLimit, Path, State};
use axum::response::Redirect;
use axum::routing::get;
use axum::Router;
use tsunagu_core::{ChannelId, ConversationId, Permission};
use tsunagu_store::{conversations, patients};

use crate::client_ip::ClientIp;
use crate::ui::session::Staff;
use crate::ui::{conn, render};
use crate::{AppState, PageError};

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/app/patients", get(list::page))
        .route("/app/patients/new", get(form::new_page).post(form::create))
        .route(
            "/app/patients/import",
            get(import::page)
                .post(import::submit)
                .layer(DefaultBodyLimit::max(import::MAX_FORM_BYTES)),
        )
        .route("/app/patients/{id}", get(show::page).post(show::update))
        .route(
            "/app/settings/fields",
            get(fields::page).post(fields::create),
        )
        .route("/app/conversations/{id}/patient", get(conversation_patient))
}

/// A read of patient data by staff, in its own transaction (the read fails without it).
async fn audit_read(
    state: &AppState,
    staff: &Staff,
    ip: &ClientIp,
    action: &str,
    ids: &[&str],
) -> Result<(), PageError> {
    crate::ui::audit_staff(None, state, staff, ip, (action, "patient"), ids).await
}

/// A change by staff, recorded in the transaction that made it.
async fn audit_change(
    tx: &mut tsunagu_store::Tx,
    state: &AppState,
    staff: &Staff,
    ip: &ClientIp,
    (action, subject_type): (&str, &str),
    ids: &[&str],
) -> Result<(), PageError> {
    crate::ui::audit_staff(Some(tx), state, staff, ip, (action, subject_type), ids).await
}

fn zone(staff: &Staff) -> chrono_tz::Tz {
    staff
        .clinic
        .timezone
        .parse()
        .unwrap_or(chrono_tz::Asia::Tokyo)
}

/// The clinic's date today: birth dates after it are refused.
fn today(state: &AppState, staff: &Staff) -> chrono::NaiveDate {
    tsunagu_core::clock::from_ms(state.now_ms())
        .with_timezone(&zone(staff))
        .date_naive()
}

/// `2026/01/05 09:30` in the clinic's zone.
fn local_time(staff: &Staff, ms: i64) -> String {
    tsunagu_core::clock::from_ms(ms)
        .with_timezone(&zone(staff))
        .format("%Y/%m/%d %H:%M")
        .to_string()
}

/// The conversation header's link: the patient of a direct chat, or 404.
async fn conversation_patient(
    staff: Staff,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Redirect, PageError> {
    staff.require(Permission::ReadPatients)?;
    let id = ConversationId::parse(&id).map_err(|_| PageError::not_found())?;
    let clinic = staff.clinic.clinic_id();
    let mut conn = conn(&state).await?;
    let conv = conversations::by_id(&mut conn, &clinic, &id)
        .await?
        .ok_or_else(PageError::not_found)?;
    let patient = match conv.patient_id {
        Some(p) => Some(p),
        None if conv.kind == "direct" => {
            let channel = ChannelId::from_db(conv.channel_id.clone());
            patients::identity(&mut conn, &channel, &conv.thread_key)
                .await?
                .filter(|i| i.clinic_id == staff.clinic.id)
                .map(|i| i.patient_id)
        }
        None => None,
    };
    let patient = patient.ok_or_else(PageError::not_found)?;
    Ok(Redirect::to(&format!("/app/patients/{patient}")))
}
