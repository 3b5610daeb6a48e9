//! GET /app/audit: the clinic's audit trail, newest first, 100 rows a page, times in the
//! clinic's zone, inside the app shell. Owners and admins only; reading it is itself written to the trail.
use axum::extract::{Query, State};
use axum::response::Html;
use serde::{Deserialize, Serialize};
use tsunagu_accounts::staff;
use tsunagu_core::Permission;
use tsunagu_privacy::audit::{self, AuditEntry, AuditRow};

use super::render;
use crate::client_ip::ClientIp;
use crate::i18n::text;
use crate::ui::inbox::shell::{shell, Shell};
use crate::ui::session::Staff;
use crate::{AppState, PageError};

const PAGE_SIZE: i64 = 100;

#[derive(Deserialize)]
pub struct AuditQuery {
    before: Option<i64>,
}

#[derive(Serialize)]
struct Line {
    seq: i64,
    at: String,
    actor: String,
    action: String,
    action_key: String,
    subject_type: Option<String>,
    subjects: String,
    source_ip: String,
}

#[derive(Serialize)]
struct AuditPage<'a> {
    lang: &'a str,
    shell: Shell,
    title: String,
    clinic_name: &'a str,
    timezone: &'a str,
    lines: Vec<Line>,
    older: Option<i64>,
}

pub async fn page(
    State(state): State<AppState>,
    ip: ClientIp,
    staff: Staff,
    Query(q): Query<AuditQuery>,
) -> Result<Html<String>, PageError> {
    staff.require(Permission::ReadAudit)?;
    let clinic = staff.clinic.clinic_id();
    let mut conn = state
        .db
        .pool()
        .acquire()
        .await
        .map_err(anyhow::Error::from)?;
    let rows = audit::list(&mut conn, &clinic, q.before, PAGE_SIZE).await?;
    let staff_ids: Vec<String> = rows
        .iter()
        .filter(|r| r.actor_kind == "staff")
        .filter_map(|r| r.actor_id.clone())
        .collect();
    let names = staff::display_names(&mut conn, &staff_ids).await?;
    drop(conn);

    let tz: chrono_tz::Tz = staff.clinic.timezone.parse().unwrap_or(chrono_tz::UTC);
    let lang = staff.lang;
    let older = (rows.len() as i64 == PAGE_SIZE)
        .then(|| rows.last().map(|r| r.seq))
        .flatten();
    let lines = rows.iter().map(|r| line(r, lang, &tz, &names)).collect();

    let (actor, source_ip) = (staff.actor(), ip.as_string());
    let e = AuditEntry {
        clinic_id: Some(&clinic),
        actor: &actor,
        action: "audit.read",
        subject_type: None,
        subject_ids: &[],
        source_ip: source_ip.as_deref(),
    };
    audit::record_now(&state.db, e, state.now_ms()).await?;

    let page = AuditPage {
        lang,
        shell: shell(&state, &staff, "audit").await?,
        title: text(lang, "audit.title"),
        clinic_name: &staff.clinic.name,
        timezone: &staff.clinic.timezone,
        lines,
        older,
    };
    render(&state, "audit/list.html", page)
}

fn line(
    r: &AuditRow,
    lang: &str,
    tz: &chrono_tz::Tz,
    names: &std::collections::HashMap<String, String>,
) -> Line {
    let at = tsunagu_core::clock::from_ms(r.at)
        .with_timezone(tz)
        .format("%Y-%m-%d %H:%M:%S")
        .to_string();
    let id = r.actor_id.clone().unwrap_or_default();
    let actor = match r.actor_kind.as_str() {
        "staff" => names.get(&id).cloned().unwrap_or(id),
        "token" => format!("{} {id}", text(lang, "audit.actor.token")),
        "system" => text(lang, "audit.actor.system"),
        _ => text(lang, "audit.actor.anonymous"),
    };
    // Known actions read as words; others (from areas without a label yet) as their key.
    let key = format!("audit.action.{}", r.action);
    let label = text(lang, &key);
    let action = if label == key {
        r.action.clone()
    } else {
        label
    };
    let subjects: Vec<String> = serde_json::from_str(&r.subject_ids).unwrap_or_default();
    Line {
        seq: r.seq,
        at,
        actor,
        action,
        action_key: r.action.clone(),
        subject_type: r.subject_type.clone(),
        subjects: subjects.join(", "),
        source_ip: r.source_ip.clone().unwrap_or_default(),
    }
}
