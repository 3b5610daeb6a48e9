//! `/app/settings/rich-menus/field-rules`: "patients whose custom field X is Y get menu Z"
//! (初診/再診, ワクチン接種予定), added and removed beside the tag rules on the rich menu page;
//! each change relinks the channel (`rich_menu.assign`, LINE's bulk calls) and is audited.
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use tsunagu_automation::richmenu;
use tsunagu_core::{Code, Permission};

use super::audit_change;
use super::rich_menus::{refused, Empty, PAGE};
use crate::client_ip::ClientIp;
use crate::ui::session::{CsrfForm, Staff};
use crate::{AppState, PageError};

#[derive(Debug, Default, Deserialize)]
pub struct FieldRuleForm {
    #[serde(default)]
    pub field_key: String,
    #[serde(default)]
    pub value: String,
    #[serde(default)]
    pub rich_menu_id: String,
}

pub async fn add(
    State(state): State<AppState>,
    staff: Staff,
    ip: ClientIp,
    CsrfForm(form): CsrfForm<FieldRuleForm>,
) -> Result<Response, PageError> {
    staff.require(Permission::Administer)?;
    let clinic = staff.clinic.clinic_id();
    let mut tx = state.db.begin().await?;
    let (menu, key, value) = (&form.rich_menu_id, &form.field_key, &form.value);
    let now = state.now_ms();
    let id = match richmenu::add_field_rule(tx.conn(), &clinic, menu, key, value, now).await? {
        Ok(id) => id,
        Err(r) if r.code == Code::NotFound => return Err(PageError::not_found()),
        Err(r) => return Ok(refused(PAGE, &r)),
    };
    let subject = ("rich_menu_field_rule", &[id.as_str()][..]);
    audit_change(
        &mut tx,
        &state,
        &staff,
        &ip,
        "rich_menu.rule_create",
        subject,
    )
    .await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("{PAGE}?saved=rule")).into_response())
}

pub async fn delete(
    State(state): State<AppState>,
    staff: Staff,
    ip: ClientIp,
    Path(id): Path<String>,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<Response, PageError> {
    staff.require(Permission::Administer)?;
    let clinic = staff.clinic.clinic_id();
    let mut tx = state.db.begin().await?;
    if !richmenu::delete_field_rule(tx.conn(), &clinic, &id, state.now_ms()).await? {
        return Err(PageError::not_found());
    }
    let subject = ("rich_menu_field_rule", &[id.as_str()][..]);
    audit_change(
        &mut tx,
        &state,
        &staff,
        &ip,
        "rich_menu.rule_delete",
        subject,
    )
    .await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("{PAGE}?saved=rule_deleted")).into_response())
}
