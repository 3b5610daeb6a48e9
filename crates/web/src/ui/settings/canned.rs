//! `/app/settings/canned`: the clinic's canned responses (定型文) — list, add, change, delete —
//! and the clinic's phone number that `{{clinic.phone}}` fills in. A refused form is shown again
//! with the error and what was typed.
use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};
use tsunagu_core::{Code, Permission, Refusal};
use tsunagu_inbox::canned::{self, Draft, VARIABLES};
use tsunagu_store::clinics;

use super::{audit_change, render};
use crate::api::refusal::status;
use crate::client_ip::ClientIp;
use crate::i18n::{self, text};
use crate::ui::inbox::shell::shell;
use crate::ui::session::{CsrfForm, Staff};
use crate::{AppState, PageError};

const PAGE: &str = "/app/settings/canned";
/// Phone numbers as clinics write them: digits, hyphens, brackets, +, spaces.
const MAX_PHONE: usize = 30;

#[derive(Deserialize)]
pub struct PageQuery {
    /// created | updated | deleted | phone
    saved: Option<String>,
}

#[derive(Clone, Default, Deserialize, Serialize)]
pub struct CannedForm {
    #[serde(default)]
    shortcut: String,
    #[serde(default)]
    title: String,
    #[serde(default)]
    body: String,
}

#[derive(Deserialize)]
pub struct PhoneForm {
    #[serde(default)]
    phone: String,
}

/// A form with nothing but its CSRF token.
#[derive(Deserialize)]
pub struct Empty {}

#[derive(Serialize)]
struct Item {
    id: String,
    shortcut: String,
    title: String,
    body: String,
}

#[derive(Serialize)]
struct Variable {
    name: String,
    hint: String,
}

/// A refused form: the words, what was typed, and the canned response it was editing.
struct Refused {
    why: Refusal,
    form: CannedForm,
    editing: Option<String>,
}

async fn build(
    state: &AppState,
    staff: &Staff,
    refused: Option<Refused>,
    notice: Option<String>,
) -> Result<Html<String>, PageError> {
    let lang = staff.lang;
    let clinic = staff.clinic.clinic_id();
    let mut conn = crate::ui::conn(state).await?;
    let rows = canned::list(&mut conn, &clinic).await?;
    let phone = clinics::phone(&mut conn, &clinic).await?;
    drop(conn);
    let items: Vec<Item> = rows
        .into_iter()
        .map(|c| Item {
            id: c.id,
            shortcut: c.shortcut,
            title: c.title,
            body: c.body,
        })
        .collect();
    let variables: Vec<Variable> = VARIABLES
        .iter()
        .map(|v| Variable {
            name: format!("{{{{{v}}}}}"),
            hint: text(lang, &format!("canned.var.{v}")),
        })
        .collect();
    let (error, draft, editing) = match refused {
        Some(r) => (Some(i18n::refusal(lang, &r.why)), r.form, r.editing),
        None => (None, CannedForm::default(), None),
    };
    let ctx = minijinja::context! {
        lang, shell => shell(state, staff, "settings").await?, title => text(lang, "canned.title"),
        action => PAGE, csrf_token => &staff.csrf_token, items, variables, draft, editing, error,
        notice, phone,
    };
    render(state, "settings/canned.html", ctx)
}

async fn refused_page(state: &AppState, staff: &Staff, r: Refused) -> Result<Response, PageError> {
    let status = status(r.why.code);
    let html = build(state, staff, Some(r), None).await?;
    Ok((status, html).into_response())
}

pub async fn page(
    State(state): State<AppState>,
    staff: Staff,
    Query(q): Query<PageQuery>,
) -> Result<Html<String>, PageError> {
    staff.require(Permission::Administer)?;
    let notice = q
        .saved
        .filter(|k| ["created", "updated", "deleted", "phone"].contains(&k.as_str()))
        .map(|k| text(staff.lang, &format!("canned.saved.{k}")));
    build(&state, &staff, None, notice).await
}

fn draft(form: &CannedForm) -> Draft<'_> {
    Draft {
        shortcut: &form.shortcut,
        title: &form.title,
        body: &form.body,
    }
}

pub async fn create(
    State(state): State<AppState>,
    ip: ClientIp,
    staff: Staff,
    CsrfForm(form): CsrfForm<CannedForm>,
) -> Result<Response, PageError> {
    staff.require(Permission::Administer)?;
    let clinic = staff.clinic.clinic_id();
    let mut tx = state.db.begin().await?;
    let row = match canned::create(tx.conn(), &clinic, draft(&form), state.now_ms()).await? {
        Ok(row) => row,
        Err(e) => {
            drop(tx);
            let r = Refused {
                why: e.refusal(),
                form,
                editing: None,
            };
            return refused_page(&state, &staff, r).await;
        }
    };
    let subject = ("canned_response", &[row.id.as_str()][..]);
    audit_change(&mut tx, &state, &staff, &ip, "ui.canned.create", subject).await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("{PAGE}?saved=created")).into_response())
}

pub async fn update(
    State(state): State<AppState>,
    ip: ClientIp,
    Path(id): Path<String>,
    staff: Staff,
    CsrfForm(form): CsrfForm<CannedForm>,
) -> Result<Response, PageError> {
    staff.require(Permission::Administer)?;
    let clinic = staff.clinic.clinic_id();
    let mut tx = state.db.begin().await?;
    match canned::update(tx.conn(), &clinic, &id, draft(&form), state.now_ms()).await? {
        Ok(Some(_)) => {}
        Ok(None) => return Err(PageError::not_found()),
        Err(e) => {
            drop(tx);
            let r = Refused {
                why: e.refusal(),
                form,
                editing: Some(id),
            };
            return refused_page(&state, &staff, r).await;
        }
    }
    let subject = ("canned_response", &[id.as_str()][..]);
    audit_change(&mut tx, &state, &staff, &ip, "ui.canned.update", subject).await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("{PAGE}?saved=updated")).into_response())
}

pub async fn delete(
    State(state): State<AppState>,
    ip: ClientIp,
    Path(id): Path<String>,
    staff: Staff,
    CsrfForm(_): CsrfForm<Empty>,
) -> Result<Response, PageError> {
    staff.require(Permission::Administer)?;
    let mut tx = state.db.begin().await?;
    if !canned::delete(tx.conn(), &staff.clinic.clinic_id(), &id).await? {
        return Err(PageError::not_found());
    }
    let subject = ("canned_response", &[id.as_str()][..]);
    audit_change(&mut tx, &state, &staff, &ip, "ui.canned.delete", subject).await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("{PAGE}?saved=deleted")).into_response())
}

/// The phone number as typed, trimmed; `None` clears it.
fn phone_of(typed: &str) -> Result<Option<&str>, Refusal> {
    let p = typed.trim();
    let allowed = |c: char| {
        c.is_ascii_digit()
            || "-+() ".contains(c)
            || ('０'..='９').contains(&c)
            || "－（）".contains(c)
    };
    if p.chars().count() > MAX_PHONE || !p.chars().all(allowed) {
        return Err(Refusal::new(Code::InvalidClinicPhone).detail("not a phone number"));
    }
    Ok(Some(p).filter(|p| !p.is_empty()))
}

pub async fn set_phone(
    State(state): State<AppState>,
    ip: ClientIp,
    staff: Staff,
    CsrfForm(form): CsrfForm<PhoneForm>,
) -> Result<Response, PageError> {
    staff.require(Permission::Administer)?;
    let phone = match phone_of(&form.phone) {
        Ok(p) => p,
        Err(why) => {
            let r = Refused {
                why,
                form: CannedForm::default(),
                editing: None,
            };
            return refused_page(&state, &staff, r).await;
        }
    };
    let clinic = staff.clinic.clinic_id();
    let mut tx = state.db.begin().await?;
    clinics::set_phone(tx.conn(), &clinic, phone).await?;
    let subject = ("clinic", &[staff.clinic.id.as_str()][..]);
    audit_change(&mut tx, &state, &staff, &ip, "ui.clinic.phone", subject).await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("{PAGE}?saved=phone")).into_response())
}

#[cfg(test)]
mod tests {
    use super::phone_of;

    #[test]
    fn a_phone_number_is_kept_as_the_clinic_writes_it() {
        assert_eq!(phone_of(" 03-1234-5678 ").ok(), Some(Some("03-1234-5678")));
        assert_eq!(
            phone_of("０３（１２３４）５６７８").ok(),
            Some(Some("０３（１２３４）５６７８"))
        );
        assert_eq!(phone_of("").ok(), Some(None));
        assert!(phone_of("電話してね").is_err());
        assert!(phone_of(&"1".repeat(31)).is_err());
    }
}
