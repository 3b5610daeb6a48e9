//! Every row of every table, as text: two snapshots taken around a refused request must be
//! equal. Tables found in the catalog, so a new table is covered without editing this list.
use std::collections::BTreeMap;

use sqlx::any::AnyRow;
use sqlx::{Column, Row};
use tsunagu_store::{Backend, Db};

/// Bookkeeping of the request itself, not clinic data: a session's idle clock, a token's
/// last use, sign-in throttling.
const SKIP: [&str; 8] = [
    // The search index is derived from messages and patients, which are compared; PostgreSQL's
    // tsvector does not read through the Any driver.
    "search_docs",
    "sessions",
    "api_tokens",
    "login_attempts",
    "sign_in_throttle",
    "known_devices",
    "_sqlx_migrations",
    "sqlite_sequence",
];

pub type Snapshot = BTreeMap<String, Vec<String>>;

pub async fn snapshot(db: &Db) -> Snapshot {
    let list = match db.backend() {
        Backend::Sqlite => "SELECT name FROM sqlite_master WHERE type = 'table'",
        Backend::Postgres => {
            "SELECT table_name::text FROM information_schema.tables
             WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
        }
    };
    let tables: Vec<String> = sqlx::query_scalar(list).fetch_all(db.pool()).await.unwrap();
    for t in ["patients", "patient_proxies", "audit_events"] {
        assert!(tables.iter().any(|n| n == t), "the catalog lists no {t}");
    }
    let mut out = Snapshot::new();
    for t in tables.into_iter().filter(|t| !SKIP.contains(&t.as_str())) {
        let rows = sqlx::query(&format!("SELECT * FROM {t}"))
            .fetch_all(db.pool())
            .await
            .unwrap_or_else(|e| panic!("reading {t}: {e}"));
        let mut lines: Vec<String> = rows.iter().map(line).collect();
        lines.sort();
        out.insert(t, lines);
    }
    out
}

fn line(row: &AnyRow) -> String {
    let cells: Vec<String> = (0..row.columns().len())
        .map(|i| {
            let name = row.column(i).name();
            format!("{name}={}", cell(row, i))
        })
        .collect();
    cells.join("|")
}

fn cell(row: &AnyRow, i: usize) -> String {
    if let Ok(v) = row.try_get::<Option<i64>, _>(i) {
        return format!("{v:?}");
    }
    if let Ok(v) = row.try_get::<Option<String>, _>(i) {
        return format!("{v:?}");
    }
    if let Ok(v) = row.try_get::<Option<f64>, _>(i) {
        return format!("{v:?}");
    }
    if let Ok(v) = row.try_get::<Option<bool>, _>(i) {
        return format!("{v:?}");
    }
    if let Ok(v) = row.try_get::<Option<Vec<u8>>, _>(i) {
        return format!("{v:?}");
    }
    panic!(
        "column {} has a type the snapshot cannot read",
        row.column(i).name()
    )
}

/// Without what showing a page writes: a refused form is shown again, and that read is
/// audited (`….read`, `….list`) and marks the conversation read.
pub fn reads_removed(s: &Snapshot) -> Snapshot {
    let is_read = |l: &String| {
        l.split('|').any(|c| {
            c.starts_with("action=") && (c.ends_with(".read\")") || c.ends_with(".list\")"))
        })
    };
    s.iter()
        .map(|(t, rows)| {
            let rows = match t.as_str() {
                "audit_events" => rows.iter().filter(|l| !is_read(l)).cloned().collect(),
                "conversations" => rows.iter().map(|l| unread_blanked(l)).collect(),
                _ => rows.clone(),
            };
            (t.clone(), rows)
        })
        .collect()
}

fn unread_blanked(line: &str) -> String {
    line.split('|')
        .map(|c| {
            if c.starts_with("unread_count=") {
                "unread_count=_"
            } else {
                c
            }
        })
        .collect::<Vec<_>>()
        .join("|")
}

/// The tables whose rows differ, with the rows only one side has (a few of each).
pub fn diff(before: &Snapshot, after: &Snapshot) -> Vec<String> {
    let empty = Vec::new();
    let mut out = Vec::new();
    for t in before.keys().chain(after.keys()) {
        let (b, a) = (
            before.get(t).unwrap_or(&empty),
            after.get(t).unwrap_or(&empty),
        );
        if b == a || out.iter().any(|o: &String| o.starts_with(&format!("{t}:"))) {
            continue;
        }
        let gone: Vec<&String> = b.iter().filter(|r| !a.contains(r)).take(2).collect();
        let new: Vec<&String> = a.iter().filter(|r| !b.contains(r)).take(2).collect();
        out.push(format!("{t}: - {gone:?} + {new:?}"));
    }
    out
}
