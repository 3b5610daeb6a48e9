//! A person's saved inbox views (name + the list's query string), listed above the tabs.
//! `POST /app/inbox/views` saves the list as shown; rename and delete take only the person's
//! own (another person's id is 404, as is any id that is not theirs).
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};
use tsunagu_core::Permission;
use tsunagu_store::saved_views::{self, SavedView};

use super::conn;
use super::list::{ListQuery, Tab};
use crate::ui::session::{CsrfForm, Staff};
use crate::{AppState, PageError};

const NAME_MAX: usize = 40;

/// A saved view in the sidebar.
#[derive(Clone, Debug, Serialize)]
pub struct SavedItem {
    pub id: String,
    pub name: String,
    pub href: String,
    pub current: bool,
}

pub fn items(views: Vec<SavedView>, shown_query: &str) -> Vec<SavedItem> {
    views
        .into_iter()
        .map(|v| SavedItem {
            href: format!("/app/inbox?{}", v.query),
            current: v.query == shown_query,
            id: v.id,
            name: v.name,
        })
        .collect()
}

/// The list's own query string for `q`, the form a saved view keeps: its tab and its facets,
/// read and written again so nothing else is stored.
pub fn canonical(q: &ListQuery) -> String {
    let view = Tab::parse(q.view.as_deref()).unwrap_or(Tab::Open).as_str();
    let facets = q.facets.query();
    if facets.is_empty() {
        format!("view={view}")
    } else {
        format!("view={view}&{facets}")
    }
}

fn name(raw: &str) -> Option<String> {
    let n = raw.trim();
    (!n.is_empty() && n.chars().count() <= NAME_MAX).then(|| n.to_owned())
}

#[derive(Debug, Deserialize)]
pub struct SaveForm {
    #[serde(default)]
    pub name: String,
    /// The list's query string as shown.
    #[serde(default)]
    pub query: String,
}

pub async fn create(
    staff: Staff,
    State(state): State<AppState>,
    CsrfForm(form): CsrfForm<SaveForm>,
) -> Result<Response, PageError> {
    staff.require(Permission::ReadPatients)?;
    let q: ListQuery = serde_urlencoded::from_str(&form.query)
        .map_err(|_| PageError::from(tsunagu_core::Code::BadRequest))?;
    let query = canonical(&q);
    let back = format!("/app/inbox?{query}");
    let Some(name) = name(&form.name) else {
        return Ok(Redirect::to(&back).into_response());
    };
    let mut tx = state.db.begin().await?;
    let staff_id = staff.staff_id.to_string();
    saved_views::create(
        tx.conn(),
        &staff.clinic.clinic_id(),
        &staff_id,
        &name,
        &query,
        state.now_ms(),
    )
    .await?;
    tx.commit().await?;
    Ok(Redirect::to(&back).into_response())
}

#[derive(Debug, Deserialize)]
pub struct RenameForm {
    #[serde(default)]
    pub name: String,
}

pub async fn rename(
    staff: Staff,
    State(state): State<AppState>,
    Path(id): Path<String>,
    CsrfForm(form): CsrfForm<RenameForm>,
) -> Result<Response, PageError> {
    staff.require(Permission::ReadPatients)?;
    let clinic = staff.clinic.clinic_id();
    let staff_id = staff.staff_id.to_string();
    let mut c = conn(&state).await?;
    let view = saved_views::get(&mut c, &clinic, &staff_id, &id)
        .await?
        .ok_or_else(PageError::not_found)?;
    drop(c);
    if let Some(name) = name(&form.name) {
        let mut tx = state.db.begin().await?;
        if !saved_views::rename(tx.conn(), &clinic, &staff_id, &id, &name).await? {
            return Err(PageError::not_found());
        }
        tx.commit().await?;
    }
    Ok(Redirect::to(&format!("/app/inbox?{}", view.query)).into_response())
}

#[derive(Debug, Deserialize)]
pub struct Empty {}

pub async fn delete(
    staff: Staff,
    State(state): State<AppState>,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<Response, PageError> {
    staff.require(Permission::ReadPatients)?;
    let mut tx = state.db.begin().await?;
    let staff_id = staff.staff_id.to_string();
    if !saved_views::delete(tx.conn(), &staff.clinic.clinic_id(), &staff_id, &id).await? {
        return Err(PageError::not_found());
    }
    tx.commit().await?;
    Ok(Redirect::to("/app/inbox").into_response())
}
