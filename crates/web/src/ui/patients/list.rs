//! `GET /app/patients`: the clinic's patients, newest first, with search (name, kana in any
//! script, phone, card number, e-mail), a tag filter and the "unverified" badge.
use axum::extract::{Query, State};
use axum::response::Html;
use serde::{Deserialize, Serialize};
use tsunagu_contacts::patients::{self as records, ListQuery};
use tsunagu_contacts::PhoneE164;
use tsunagu_core::Permission;

use super::{audit_read, conn, render};
use crate::client_ip::ClientIp;
use crate::i18n::text;
use crate::ui::inbox::shell::shell;
use crate::ui::session::Staff;
use crate::{AppState, PageError};

const PAGE: i64 = 50;

#[derive(Default, Deserialize, Serialize)]
pub struct ListParams {
    q: Option<String>,
    tag: Option<String>,
    /// The last id of the previous page.
    before: Option<String>,
}

#[derive(Serialize)]
struct Row {
    href: String,
    name: String,
    kana: String,
    birth_date: String,
    phone: String,
    card_number: String,
    tags: Vec<String>,
    unverified: bool,
}

pub async fn page(
    staff: Staff,
    State(state): State<AppState>,
    ip: ClientIp,
    Query(p): Query<ListParams>,
) -> Result<Html<String>, PageError> {
    staff.require(Permission::ReadPatients)?;
    let clinic = staff.clinic.clinic_id();
    let before_id = p
        .before
        .as_deref()
        .and_then(|b| uuid::Uuid::try_parse(b).ok())
        .map(|u| u.to_string());
    let query = ListQuery {
        q: p.q.clone(),
        tag: p.tag.clone(),
        before_id,
        limit: PAGE + 1,
    };
    let mut conn = conn(&state).await?;
    let mut rows = records::list(&mut conn, &clinic, &query).await?;
    let more = rows.len() as i64 > PAGE;
    rows.truncate(PAGE as usize);
    let ids: Vec<&str> = rows.iter().map(|r| r.id.as_str()).collect();
    let mut tags = records::tags_of(&mut conn, &clinic, &ids).await?;
    let unverified = records::unverified_of(&mut conn, &clinic, &ids).await?;
    let all_tags: Vec<String> = records::clinic_tags(&mut conn, &clinic)
        .await?
        .into_iter()
        .map(|(t, _)| t)
        .collect();
    drop(conn);
    audit_read(&state, &staff, &ip, "patient.list", &ids).await?;

    let older = more
        .then(|| rows.last().map(|r| older_href(&p, &r.id)))
        .flatten();
    let lang = staff.lang;
    let items: Vec<Row> = rows
        .into_iter()
        .map(|r| Row {
            href: format!("/app/patients/{}", r.id),
            unverified: unverified.contains(&r.id),
            tags: tags.remove(&r.id).unwrap_or_default(),
            name: if r.display_name.trim().is_empty() {
                text(lang, "patients.unnamed")
            } else {
                tsunagu_contacts::phone::display_name(&r.display_name)
            },
            kana: r.kana.unwrap_or_default(),
            birth_date: r.birth_date.unwrap_or_default(),
            phone: r
                .phone
                .map(|ph| PhoneE164::from_db(ph).display())
                .unwrap_or_default(),
            card_number: r.card_number.unwrap_or_default(),
        })
        .collect();
    let searching = p.q.as_deref().is_some_and(|q| !q.trim().is_empty())
        || p.tag.as_deref().is_some_and(|t| !t.is_empty());
    let ctx = minijinja::context! {
        lang, shell => shell(&state, &staff, "patients").await?, title => text(lang, "patients.title"),
        q => p.q.clone().unwrap_or_default(), tag => p.tag.clone().unwrap_or_default(), all_tags,
        items, older, searching,
        can_create => staff.can(Permission::Reply), can_admin => staff.can(Permission::Administer),
    };
    render(&state, "patients/list.html", ctx)
}

fn older_href(p: &ListParams, last_id: &str) -> String {
    let next = ListParams {
        q: p.q.clone(),
        tag: p.tag.clone(),
        before: Some(last_id.to_string()),
    };
    format!(
        "/app/patients?{}",
        serde_urlencoded::to_string(&next).unwrap_or_default()
    )
}
