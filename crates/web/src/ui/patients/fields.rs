//! `/app/settings/fields`: the clinic's custom record fields, and a form to add one
//! (owners and admins).
use axum::extract::State;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};
use tsunagu_contacts::fields::{self, NewField};
use tsunagu_core::Permission;

use super::{audit_change, conn, render};
use crate::client_ip::ClientIp;
use crate::i18n::{self, text};
use crate::ui::inbox::shell::shell;
use crate::ui::session::{CsrfForm, Staff};
use crate::{AppState, PageError};

#[derive(Default, Deserialize, Serialize)]
pub struct FieldForm {
    #[serde(default)]
    key: String,
    #[serde(default)]
    label_ja: String,
    #[serde(default)]
    label_en: String,
    #[serde(default)]
    kind: String,
    /// One choice per line.
    #[serde(default)]
    choices: String,
    required: Option<String>,
}

#[derive(Serialize)]
struct FieldRow {
    key: String,
    label_ja: String,
    label_en: String,
    kind: String,
    choices: String,
    required: bool,
}

async fn show(
    state: &AppState,
    staff: &Staff,
    form: FieldForm,
    errors: Vec<String>,
) -> Result<Html<String>, PageError> {
    let lang = staff.lang;
    let mut conn = conn(state).await?;
    let rows: Vec<FieldRow> = fields::list(&mut conn, &staff.clinic.clinic_id())
        .await?
        .into_iter()
        .map(|f| FieldRow {
            choices: f.choice_list().join("、"),
            required: f.is_required(),
            kind: text(lang, &format!("patients.fields.kind.{}", f.kind)),
            key: f.key,
            label_ja: f.label_ja,
            label_en: f.label_en,
        })
        .collect();
    drop(conn);
    let ctx = minijinja::context! {
        lang, shell => shell(state, staff, "settings").await?, title => text(lang, "patients.fields.title"),
        rows, form, errors, csrf_token => &staff.csrf_token,
    };
    render(state, "patients/fields.html", ctx)
}

pub async fn page(staff: Staff, State(state): State<AppState>) -> Result<Html<String>, PageError> {
    staff.require(Permission::Administer)?;
    show(
        &state,
        &staff,
        FieldForm {
            kind: "text".into(),
            ..Default::default()
        },
        Vec::new(),
    )
    .await
}

pub async fn create(
    staff: Staff,
    State(state): State<AppState>,
    ip: ClientIp,
    CsrfForm(f): CsrfForm<FieldForm>,
) -> Result<Response, PageError> {
    staff.require(Permission::Administer)?;
    let new = NewField {
        key: f.key.trim().to_string(),
        label_ja: f.label_ja.clone(),
        label_en: Some(f.label_en.clone()),
        kind: f.kind.clone(),
        choices: f
            .choices
            .lines()
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(str::to_string)
            .collect(),
        required: f.required.is_some(),
        position: None,
    };
    let mut tx = state.db.begin().await?;
    match fields::create(tx.conn(), &staff.clinic.clinic_id(), &new, state.now_ms()).await? {
        Ok(field) => {
            audit_change(
                &mut tx,
                &state,
                &staff,
                &ip,
                ("custom_field.create", "custom_field"),
                &[field.id.as_str()],
            )
            .await?;
            tx.commit().await?;
            Ok(Redirect::to("/app/settings/fields").into_response())
        }
        Err(errs) => {
            drop(tx);
            let errors = errs
                .iter()
                .map(|e| format!("{}: {}", e.field, i18n::code(staff.lang, e.code)))
                .collect();
            let html = show(&state, &staff, f, errors).await?;
            Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, html).into_response())
        }
    }
}
