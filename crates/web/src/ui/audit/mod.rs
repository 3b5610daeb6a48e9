//! GET /app/audit: the clinic's audit trail, newest first, 100 rows a page, times in the
//! clinic's zone, inside the app shell; filtered by date range, staff member, action and
//! patient, with people named and actions in words. Owners and admins only; reading it is
//! itself written to the trail.
mod filter;
mod subjects;

use axum::extract::{Query, State};
use axum::response::Html;
use serde::Serialize;
use tsunagu_accounts::staff;
use tsunagu_core::Permission;
use tsunagu_privacy::audit::{self, AuditEntry, AuditRow, ACTIONS};

use super::render;
use crate::client_ip::ClientIp;
use crate::i18n::text;
use crate::ui::inbox::shell::{shell, Shell};
use crate::ui::session::Staff;
use crate::{AppState, PageError};
pub use filter::AuditQuery;
use subjects::{Resolver, Subjects};

const PAGE_SIZE: i64 = 100;

#[derive(Serialize)]
struct Line {
    seq: i64,
    at: String,
    actor: String,
    action: String,
    action_key: String,
    subjects: Subjects,
    source_ip: String,
}

#[derive(Serialize)]
struct Choice {
    value: String,
    label: String,
}

#[derive(Serialize)]
struct AuditPage<'a> {
    lang: &'a str,
    shell: Shell,
    title: String,
    clinic_name: &'a str,
    timezone: &'a str,
    lines: Vec<Line>,
    older_query: Option<String>,
    q: &'a AuditQuery,
    filtered: bool,
    staff_choices: Vec<Choice>,
    action_choices: Vec<Choice>,
}

/// An action in words; one without words (a gap the catalog test catches) as its key.
pub fn action_words(lang: &str, action: &str) -> String {
    let key = format!("audit.action.{action}");
    match text(lang, &key) {
        label if label == key => action.to_string(),
        label => label,
    }
}

pub async fn page(
    State(state): State<AppState>,
    ip: ClientIp,
    staff: Staff,
    Query(q): Query<AuditQuery>,
) -> Result<Html<String>, PageError> {
    staff.require(Permission::ReadAudit)?;
    let clinic = staff.clinic.clinic_id();
    let lang = staff.lang;
    let tz: chrono_tz::Tz = staff.clinic.timezone.parse().unwrap_or(chrono_tz::UTC);
    let mut conn = crate::ui::conn(&state).await?;
    let rows = match filter::read(&mut conn, &clinic, &tz, &q).await? {
        Some(f) => audit::search(&mut conn, &clinic, &f, PAGE_SIZE).await?,
        None => Vec::new(),
    };
    let members = staff::of_clinic(&mut conn, &clinic).await?;
    let mut staff_ids: Vec<String> = rows
        .iter()
        .filter(|r| r.actor_kind == "staff")
        .filter_map(|r| r.actor_id.clone())
        .collect();
    staff_ids.extend(
        rows.iter()
            .filter(|r| r.subject_type.as_deref() == Some("staff"))
            .flat_map(subject_ids),
    );
    let names = staff::display_names(&mut conn, &staff_ids).await?;
    let mut resolver = Resolver::default();
    let mut lines = Vec::with_capacity(rows.len());
    for r in &rows {
        let ids = subject_ids(r);
        let subjects = resolver
            .subjects(
                &mut conn,
                &clinic,
                lang,
                &names,
                r.subject_type.as_deref(),
                &ids,
            )
            .await?;
        lines.push(line(r, lang, &tz, &names, subjects));
    }
    drop(conn);
    let older_query = (rows.len() as i64 == PAGE_SIZE)
        .then(|| rows.last().map(|r| q.older(r.seq)))
        .flatten();

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

    let mut action_choices: Vec<Choice> = ACTIONS
        .iter()
        .map(|a| Choice {
            value: a.to_string(),
            label: action_words(lang, a),
        })
        .collect();
    action_choices.sort_by(|a, b| a.label.cmp(&b.label));
    let page = AuditPage {
        lang,
        shell: shell(&state, &staff, "audit").await?,
        title: text(lang, "audit.title"),
        clinic_name: &staff.clinic.name,
        timezone: &staff.clinic.timezone,
        lines,
        older_query,
        filtered: q.filtered(),
        q: &q,
        staff_choices: members
            .into_iter()
            .map(|(value, label)| Choice { value, label })
            .collect(),
        action_choices,
    };
    render(&state, "audit/list.html", page)
}

fn subject_ids(r: &AuditRow) -> Vec<String> {
    serde_json::from_str(&r.subject_ids).unwrap_or_default()
}

fn line(
    r: &AuditRow,
    lang: &str,
    tz: &chrono_tz::Tz,
    names: &std::collections::HashMap<String, String>,
    subjects: Subjects,
) -> Line {
    let at = tsunagu_core::clock::from_ms(r.at)
        .with_timezone(tz)
        .format("%Y-%m-%d %H:%M:%S")
        .to_string();
    let id = r.actor_id.clone().unwrap_or_default();
    let actor = match r.actor_kind.as_str() {
        "staff" => names
            .get(&id)
            .cloned()
            .unwrap_or_else(|| text(lang, "audit.actor.former_staff")),
        "token" => text(lang, "audit.actor.token"),
        "system" => text(lang, "audit.actor.system"),
        _ => text(lang, "audit.actor.anonymous"),
    };
    Line {
        seq: r.seq,
        at,
        actor,
        action: action_words(lang, &r.action),
        action_key: r.action.clone(),
        subjects,
        source_ip: r.source_ip.clone().unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_action_the_app_records_has_japanese_and_english_words() {
        let mut missing = Vec::new();
        for a in ACTIONS {
            for lang in ["ja", "en"] {
                if action_words(lang, a) == *a {
                    missing.push(format!("{lang}: audit.action.{a}"));
                }
            }
        }
        assert!(missing.is_empty(), "actions without words: {missing:#?}");
    }
}
