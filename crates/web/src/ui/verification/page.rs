//! `GET /app/patients/{id}/identity` (ReadPatients; audited as `identity.read`).
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use serde::{Deserialize, Serialize};
use tsunagu_core::{PatientId, Permission};
use tsunagu_privacy::audit::{self, AuditEntry};
use tsunagu_privacy::verification::{link, proxies, session};
use tsunagu_store::patients;

use crate::client_ip::ClientIp;
use crate::i18n::text;
use crate::ui::inbox::shell::shell;
use crate::ui::session::Staff;

use super::names;
use crate::{AppState, PageError};

#[derive(Default, Deserialize)]
pub struct PageQuery {
    /// A record search for the manual link form: card number or name.
    pub q: Option<String>,
    /// A patient search for the proxy picker: name, kana or phone.
    pub proxy_q: Option<String>,
    pub done: Option<String>,
}

#[derive(Serialize)]
struct IdentityView {
    id: String,
    name: String,
    /// The channel it came in on, in words.
    channel: String,
    verified: bool,
    locked_until: Option<String>,
    failed_attempts: i64,
}

#[derive(Serialize)]
struct LinkView {
    id: String,
    at: String,
    how: String,
    from: String,
    to: String,
    from_name: String,
    to_name: String,
    reason: String,
    undone: bool,
}

#[derive(Serialize)]
struct ProxyView {
    id: String,
    who: String,
    /// The proxy's patient page, when the proxy is a patient.
    href: Option<String>,
    relationship: String,
    revoked: bool,
}

pub async fn show(
    staff: Staff,
    State(state): State<AppState>,
    ip: ClientIp,
    Path(id): Path<String>,
    Query(q): Query<PageQuery>,
) -> Result<Response, PageError> {
    render_page(&state, &staff, &ip, &id, q, None).await
}

/// The page, with an error (422) from a refused form.
pub async fn render_page(
    state: &AppState,
    staff: &Staff,
    ip: &ClientIp,
    id: &str,
    q: PageQuery,
    error: Option<String>,
) -> Result<Response, PageError> {
    staff.require(Permission::ReadPatients)?;
    let lang = staff.lang;
    let clinic = staff.clinic.clinic_id();
    let pid = PatientId::parse(id).map_err(|_| PageError::not_found())?;
    let mut conn = state
        .db
        .pool()
        .acquire()
        .await
        .map_err(anyhow::Error::from)?;
    let patient = patients::by_id(&mut conn, &clinic, &pid)
        .await?
        .ok_or_else(PageError::not_found)?;
    let tz: chrono_tz::Tz = staff.clinic.timezone.parse().unwrap_or(chrono_tz::UTC);
    let at = |ms: i64| {
        tsunagu_core::clock::from_ms(ms)
            .with_timezone(&tz)
            .format("%Y-%m-%d %H:%M")
            .to_string()
    };
    let now = state.now_ms();
    let mut identities = Vec::new();
    for i in patients::identities_of(&mut conn, &clinic, &pid).await? {
        let s = session::load(&mut conn, &i.id).await?;
        identities.push(IdentityView {
            channel: names::channel_label(&mut conn, &clinic, lang, &i.channel_id).await?,
            locked_until: s.as_ref().and_then(|s| session::locked(s, now)).map(at),
            failed_attempts: s.map_or(0, |s| s.failed_attempts),
            name: i.display_name.unwrap_or_else(|| i.external_id.clone()),
            verified: i.verified != 0,
            id: i.id,
        });
    }
    let mut known = names::Names::default();
    let mut links = Vec::new();
    for l in link::history(&mut conn, &clinic, pid.as_str()).await? {
        links.push(LinkView {
            at: at(l.at),
            how: text(lang, &format!("verification.how.{}", l.how)),
            reason: l.reason.unwrap_or_default(),
            undone: l.undone_at.is_some(),
            from_name: known
                .patient(&mut conn, &clinic, lang, &l.from_patient_id)
                .await?,
            to_name: known
                .patient(&mut conn, &clinic, lang, &l.to_patient_id)
                .await?,
            id: l.id,
            from: l.from_patient_id,
            to: l.to_patient_id,
        });
    }
    let mut proxy_rows = Vec::new();
    for p in proxies::list(&mut conn, &clinic, pid.as_str()).await? {
        let (who, href) = match (&p.proxy_identity_id, &p.proxy_patient_id) {
            (Some(i), _) => (known.identity(&mut conn, &clinic, lang, i).await?, None),
            (None, Some(pp)) => (
                known.patient(&mut conn, &clinic, lang, pp).await?,
                Some(format!("/app/patients/{pp}")),
            ),
            (None, None) => (text(lang, "verification.patient_gone"), None),
        };
        proxy_rows.push(ProxyView {
            who,
            href,
            relationship: text(
                lang,
                &format!("verification.relationship.{}", p.relationship),
            ),
            revoked: p.revoked_at.is_some(),
            id: p.id,
        });
    }
    let proxy_q = q
        .proxy_q
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    let proxy_found = match proxy_q {
        Some(s) if staff.can(Permission::Merge) => {
            names::proxy_candidates(&mut conn, &clinic, &pid, s).await?
        }
        _ => Vec::new(),
    };
    let search = q.q.as_deref().map(str::trim).filter(|s| !s.is_empty());
    let found = match search {
        Some(s) => tsunagu_store::patients::link_candidates(&mut conn, &clinic, &pid, s).await?,
        None => Vec::new(),
    };
    drop(conn);
    let (actor, source_ip) = (staff.actor(), ip.as_string());
    let entry = AuditEntry {
        clinic_id: Some(&clinic),
        actor: &actor,
        action: "identity.read",
        subject_type: Some("patient"),
        subject_ids: &[pid.as_str()],
        source_ip: source_ip.as_deref(),
    };
    audit::record_now(&state.db, entry, now).await?;
    let tmpl = state
        .templates
        .get_template("verification/page.html")
        .map_err(|e| anyhow::anyhow!("template verification/page.html: {e:#}"))?;
    let title = format!(
        "{} | {}",
        patient.display_name,
        text(lang, "verification.title")
    );
    let html = tmpl
        .render(minijinja::context! {
            lang, title, shell => shell(state, staff, "patients").await?,
            patient_id => patient.id, patient_name => tsunagu_contacts::phone::display_name(&patient.display_name),
            provisional => patient.provisional != 0,
            identities, links, proxies => proxy_rows, found, q => search.unwrap_or(""),
            proxy_found, proxy_q => proxy_q.unwrap_or(""),
            relationships => proxies::RELATIONSHIPS,
            done => q.done, error, timezone => &staff.clinic.timezone,
            csrf_token => &staff.csrf_token, can_merge => staff.can(Permission::Merge),
        })
        .map_err(|e| anyhow::anyhow!("rendering verification/page.html: {e:#}"))?;
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    Ok((status, Html(html)).into_response())
}
