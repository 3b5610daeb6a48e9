//! The record form (new and edit): what it shows, how a submitted form becomes
//! `PatientInput`, and the new-record page.
use std::collections::BTreeMap;

use axum::extract::State;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Serialize;
use tsunagu_contacts::fields::{self, CustomField};
use tsunagu_contacts::kana::{CHANNELS, LANGUAGES};
use tsunagu_contacts::patients::{self as records, PatientError, PatientRecord};
use tsunagu_contacts::{FieldError, PatientInput, PhoneE164};
use tsunagu_core::Permission;

use super::{audit_change, conn, render, today};
use crate::client_ip::ClientIp;
use crate::i18n::text;
use crate::ui::inbox::shell::shell;
use crate::ui::session::{CsrfForm, Staff};
use crate::{AppState, PageError};

/// A language code by name (`日本語`, `Tiếng Việt(ベトナム語)`); a code outside the offered list
/// (written through the API) as stored.
pub fn language_name(lang: &str, code: &str) -> String {
    let key = format!("patients.language.{code}");
    match text(lang, &key) {
        name if name == key => code.to_string(),
        name => name,
    }
}

/// The record fields of the form, in display order.
pub const STD_FIELDS: [&str; 11] = [
    "name",
    "kana",
    "birth_date",
    "sex",
    "phone",
    "email",
    "card_number",
    "language",
    "preferred_channel",
    "tags",
    "note",
];

#[derive(Clone, Debug, Serialize)]
pub struct Choice {
    pub value: String,
    pub label: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct CustomInput {
    /// `cf.<key>`: the form field name.
    pub name: String,
    pub key: String,
    pub label: String,
    pub kind: String,
    pub choices: Vec<String>,
    pub required: bool,
    pub value: String,
    pub error: Option<String>,
}

/// Everything the form template needs: the values as last shown or submitted, and the
/// translated reason beside each refused field.
#[derive(Clone, Debug, Default, Serialize)]
pub struct FormView {
    pub action: String,
    pub values: BTreeMap<String, String>,
    pub errors: BTreeMap<String, String>,
    pub custom: Vec<CustomInput>,
    pub sexes: Vec<Choice>,
    pub channels: Vec<Choice>,
    /// Languages by name, storing the code.
    pub languages: Vec<Choice>,
    /// Set after a refused submit: the number of refused fields.
    pub refused: usize,
}

impl FormView {
    pub fn new(lang: &str, action: String, defs: &[CustomField]) -> Self {
        let sexes = ["unknown", "female", "male", "other"]
            .iter()
            .map(|s| Choice {
                value: s.to_string(),
                label: text(lang, &format!("patients.sex.{s}")),
            })
            .collect();
        let channels = CHANNELS
            .iter()
            .map(|c| Choice {
                value: c.to_string(),
                label: text(lang, &format!("patients.channel.{c}")),
            })
            .collect();
        let languages = LANGUAGES
            .iter()
            .map(|c| Choice {
                value: c.to_string(),
                label: language_name(lang, c),
            })
            .collect();
        let custom = defs
            .iter()
            .map(|d| CustomInput {
                name: format!("cf.{}", d.key),
                key: d.key.clone(),
                label: d.label(lang).to_string(),
                kind: d.kind.clone(),
                choices: d.choice_list(),
                required: d.is_required(),
                value: String::new(),
                error: None,
            })
            .collect();
        FormView {
            action,
            sexes,
            channels,
            languages,
            custom,
            ..Default::default()
        }
    }

    /// Prefilled from a stored record (phone as staff write it, tags joined).
    pub fn fill(&mut self, r: &PatientRecord) {
        let p = &r.patient;
        let v = &mut self.values;
        v.insert("name".into(), p.display_name.clone());
        let opt = [
            ("kana", &p.kana),
            ("birth_date", &p.birth_date),
            ("email", &p.email),
            ("card_number", &p.card_number),
            ("language", &p.language),
            ("preferred_channel", &p.preferred_channel),
            ("note", &p.note),
        ];
        for (k, val) in opt {
            v.insert(k.into(), val.clone().unwrap_or_default());
        }
        v.insert("sex".into(), p.sex.clone());
        let phone = p.phone.clone().map(|ph| PhoneE164::from_db(ph).display());
        v.insert("phone".into(), phone.unwrap_or_default());
        v.insert("tags".into(), r.tags.join("; "));
        for c in &mut self.custom {
            c.value = r
                .fields
                .iter()
                .find(|f| f.field.key == c.key)
                .and_then(|f| f.value.clone())
                .unwrap_or_default();
        }
    }

    /// Shows a submitted form again with its refusals.
    pub fn refuse(&mut self, lang: &str, pairs: &[(String, String)], errs: &[FieldError]) {
        for (k, v) in pairs {
            if let Some(key) = k.strip_prefix("cf.") {
                if let Some(c) = self.custom.iter_mut().find(|c| c.key == key) {
                    c.value = v.clone();
                }
            } else if STD_FIELDS.contains(&k.as_str()) {
                self.values.insert(k.clone(), v.clone());
            }
        }
        for e in errs {
            let msg = crate::i18n::code(lang, e.code);
            match self.custom.iter_mut().find(|c| c.key == e.field) {
                Some(c) => c.error = Some(msg),
                None => {
                    self.errors.insert(e.field.clone(), msg);
                }
            }
        }
        self.refused = errs.len();
    }
}

/// A submitted form as input: every field it carries is set (blank clears).
pub fn input_of(pairs: &[(String, String)]) -> PatientInput {
    let mut i = PatientInput::default();
    for (k, v) in pairs {
        let v = Some(v.clone());
        match k.as_str() {
            "name" => i.name = v,
            "kana" => i.kana = v,
            "birth_date" => i.birth_date = v,
            "sex" => i.sex = v,
            "phone" => i.phone = v,
            "email" => i.email = v,
            "card_number" => i.card_number = v,
            "language" => i.language = v,
            "preferred_channel" => i.preferred_channel = v,
            "note" => i.note = v,
            "tags" => i.tags = v.map(|t| vec![t]),
            other => {
                if let (Some(key), Some(val)) = (other.strip_prefix("cf."), v) {
                    i.fields.insert(key.to_string(), val);
                }
            }
        }
    }
    i
}

async fn new_form(
    state: &AppState,
    staff: &Staff,
    view: FormView,
) -> Result<Html<String>, PageError> {
    let lang = staff.lang;
    let ctx = minijinja::context! {
        lang, shell => shell(state, staff, "patients").await?, title => text(lang, "patients.new.title"),
        form => view, csrf_token => &staff.csrf_token,
    };
    render(state, "patients/new.html", ctx)
}

/// `GET /app/patients/new`
pub async fn new_page(
    staff: Staff,
    State(state): State<AppState>,
) -> Result<Html<String>, PageError> {
    staff.require(Permission::Reply)?;
    let mut conn = conn(&state).await?;
    let defs = fields::list(&mut conn, &staff.clinic.clinic_id()).await?;
    drop(conn);
    let mut view = FormView::new(staff.lang, "/app/patients/new".into(), &defs);
    view.values.insert("sex".into(), "unknown".into());
    new_form(&state, &staff, view).await
}

/// `POST /app/patients/new`: the record, then its page; refused fields show on the form again.
pub async fn create(
    staff: Staff,
    State(state): State<AppState>,
    ip: ClientIp,
    CsrfForm(pairs): CsrfForm<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    staff.require(Permission::Reply)?;
    let clinic = staff.clinic.clinic_id();
    let input = input_of(&pairs);
    let mut tx = state.db.begin().await?;
    match records::create(
        tx.conn(),
        &clinic,
        &input,
        today(&state, &staff),
        state.now_ms(),
    )
    .await
    {
        Ok(id) => {
            audit_change(
                &mut tx,
                &state,
                &staff,
                &ip,
                ("patient.create", "patient"),
                &[id.as_str()],
            )
            .await?;
            tx.commit().await?;
            Ok(Redirect::to(&format!("/app/patients/{id}?done=created")).into_response())
        }
        Err(PatientError::Invalid(errs)) => {
            drop(tx);
            let mut conn = conn(&state).await?;
            let defs = fields::list(&mut conn, &clinic).await?;
            drop(conn);
            let mut view = FormView::new(staff.lang, "/app/patients/new".into(), &defs);
            view.refuse(staff.lang, &pairs, &errs);
            let html = new_form(&state, &staff, view).await?;
            Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, html).into_response())
        }
        Err(PatientError::NotFound) => Err(PageError::not_found()),
        Err(PatientError::Internal(e)) => Err(e.into()),
    }
}
