//! The availability switch in the page header (対応可能 / 離席中 / オフライン): staff who may
//! reply say whether automatic assignment may give them conversations now.
//! `POST /app/availability` with `availability`; back to the page it was sent from.
use axum::extract::State;
use axum::http::{header, HeaderMap};
use axum::response::Redirect;
use axum::routing::post;
use axum::Router;
use serde::Deserialize;
use tsunagu_core::Permission;
use tsunagu_inbox::routing::availability::{self, Availability};

use crate::client_ip::ClientIp;
use crate::ui::session::{CsrfForm, Staff};
use crate::{AppState, PageError};

#[derive(Deserialize)]
pub struct AvailabilityForm {
    #[serde(default)]
    availability: String,
}

pub fn router() -> Router<AppState> {
    Router::new().route("/app/availability", post(set))
}

async fn set(
    staff: Staff,
    State(state): State<AppState>,
    ip: ClientIp,
    headers: HeaderMap,
    CsrfForm(form): CsrfForm<AvailabilityForm>,
) -> Result<Redirect, PageError> {
    staff.require(Permission::Reply)?;
    let a = Availability::parse(&form.availability).ok_or(tsunagu_core::Code::InvalidRequest)?;
    let mut tx = state.db.begin().await?;
    let clinic = staff.clinic.clinic_id();
    availability::set(
        tx.conn(),
        &clinic,
        staff.staff_id.as_str(),
        a,
        state.now_ms(),
    )
    .await?;
    let subject = [staff.staff_id.as_str()];
    crate::ui::audit_staff(
        Some(&mut tx),
        &state,
        &staff,
        &ip,
        ("staff.availability", "staff"),
        &subject,
    )
    .await?;
    tx.commit().await?;
    Ok(Redirect::to(&back(&headers)))
}

/// The page the switch was on: a same-site path under `/app/`, else the inbox.
fn back(headers: &HeaderMap) -> String {
    let referer = headers
        .get(header::REFERER)
        .and_then(|v| v.to_str().ok())
        .and_then(|r| url::Url::parse(r).ok());
    match referer {
        Some(u) if u.path().starts_with("/app/") && !u.path().starts_with("//") => {
            match u.query() {
                Some(q) => format!("{}?{q}", u.path()),
                None => u.path().to_string(),
            }
        }
        _ => "/app/inbox".to_string(),
    }
}
