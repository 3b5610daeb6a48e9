//! The audit page's search: the clinic's trail narrowed by time, staff member, action and
//! subject.
use anyhow::Context;
use sqlx::AnyConnection;
use tsunagu_core::ClinicId;

use super::{AuditRow, COLS};

/// What the audit page narrows the trail to; every part optional.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    /// Only rows older than this one (the last of the previous page).
    pub before_seq: Option<i64>,
    /// `at` in `[from_ms, to_ms)`.
    pub from_ms: Option<i64>,
    pub to_ms: Option<i64>,
    /// A staff member's own rows.
    pub staff_id: Option<String>,
    pub action: Option<String>,
    /// Rows naming any of these ids among their subjects (a patient, found by name).
    pub subject_ids: Vec<String>,
}

/// A page of the clinic's trail, newest first, narrowed by `f`.
pub async fn search(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    f: &Filter,
    limit: i64,
) -> anyhow::Result<Vec<AuditRow>> {
    let mut sql = format!("SELECT {COLS} FROM audit_events WHERE clinic_id = $1 AND seq < $2");
    let mut texts: Vec<(usize, String)> = Vec::new();
    let mut ints: Vec<(usize, i64)> = Vec::new();
    let mut n = 2;
    let mut next = || {
        n += 1;
        n
    };
    if let Some(from) = f.from_ms {
        let i = next();
        sql.push_str(&format!(" AND at >= ${i}"));
        ints.push((i, from));
    }
    if let Some(to) = f.to_ms {
        let i = next();
        sql.push_str(&format!(" AND at < ${i}"));
        ints.push((i, to));
    }
    if let Some(staff) = &f.staff_id {
        let i = next();
        sql.push_str(&format!(" AND actor_kind = 'staff' AND actor_id = ${i}"));
        texts.push((i, staff.clone()));
    }
    if let Some(action) = &f.action {
        let i = next();
        sql.push_str(&format!(" AND action = ${i}"));
        texts.push((i, action.clone()));
    }
    if !f.subject_ids.is_empty() {
        // Subjects are a JSON array of ids (UUIDs: no LIKE wildcards in them).
        let likes: Vec<String> = f
            .subject_ids
            .iter()
            .map(|id| {
                let i = next();
                texts.push((i, format!("%\"{id}\"%")));
                format!("subject_ids LIKE ${i}")
            })
            .collect();
        sql.push_str(&format!(" AND ({})", likes.join(" OR ")));
    }
    let limit_at = next();
    sql.push_str(&format!(" ORDER BY seq DESC LIMIT ${limit_at}"));
    // Binds go in placeholder order.
    let mut binds: Vec<(usize, Bind)> = texts
        .into_iter()
        .map(|(i, t)| (i, Bind::Text(t)))
        .chain(ints.into_iter().map(|(i, v)| (i, Bind::Int(v))))
        .collect();
    binds.sort_by_key(|(i, _)| *i);
    let mut q = sqlx::query_as::<_, AuditRow>(&sql)
        .bind(clinic.as_str())
        .bind(f.before_seq.unwrap_or(i64::MAX));
    for (_, b) in binds {
        q = match b {
            Bind::Text(t) => q.bind(t),
            Bind::Int(v) => q.bind(v),
        };
    }
    q.bind(limit)
        .fetch_all(conn)
        .await
        .context("searching the audit trail")
}

enum Bind {
    Text(String),
    Int(i64),
}
