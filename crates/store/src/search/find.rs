//! Answering a search: the clinic's messages (and notes) whose search form contains the
//! query's, newest first (the order they were indexed, read backwards so a page stops early),
//! narrowed by the inbox's facets over their conversation.
use anyhow::Context;
use sqlx::AnyConnection;
use tsunagu_core::ClinicId;

use super::grams::Needle;

/// The inbox's filters, over the conversation a message or note is in (`c`) and its time.
#[derive(Clone, Debug, Default)]
pub struct Facets {
    pub status: Option<String>,
    pub channel_id: Option<String>,
    /// `Some(None)`: unassigned conversations only.
    pub assignee: Option<Option<String>>,
    pub team_id: Option<String>,
    /// Conversations carrying this label (one of the clinic's; another clinic's finds nothing).
    pub label_id: Option<String>,
    pub priority: Option<i64>,
    /// Messages (notes) at or after this time (ms).
    pub from_ms: Option<i64>,
    /// Messages (notes) before this time (ms).
    pub to_ms: Option<i64>,
}

/// A value bound to a query built here.
#[derive(Clone, Debug)]
pub enum Bind {
    Text(String),
    Int(i64),
}

/// The facets as `AND …` conditions over `c` (conversations) and `m` (messages), their values
/// appended to `binds` (numbered after what is already there). The one place a facet becomes
/// SQL, so the inbox's views can share it.
pub fn facet_sql(f: &Facets, binds: &mut Vec<Bind>) -> String {
    facet_sql_at(f, binds, "m.created_at")
}

/// `facet_sql` with the date facets over `time` (a column) instead of `m.created_at`.
fn facet_sql_at(f: &Facets, binds: &mut Vec<Bind>, time: &str) -> String {
    let mut sql = String::new();
    let cond = |sql: &mut String, binds: &mut Vec<Bind>, template: &str, v: Bind| {
        binds.push(v);
        sql.push_str(&template.replace('?', &format!("${}", binds.len())));
    };
    if let Some(s) = &f.status {
        cond(&mut sql, binds, " AND c.status = ?", Bind::Text(s.clone()));
    }
    if let Some(ch) = &f.channel_id {
        cond(
            &mut sql,
            binds,
            " AND c.channel_id = ?",
            Bind::Text(ch.clone()),
        );
    }
    match &f.assignee {
        Some(Some(a)) => cond(
            &mut sql,
            binds,
            " AND c.assignee_id = ?",
            Bind::Text(a.clone()),
        ),
        Some(None) => sql.push_str(" AND c.assignee_id IS NULL"),
        None => {}
    }
    if let Some(t) = &f.team_id {
        cond(&mut sql, binds, " AND c.team_id = ?", Bind::Text(t.clone()));
    }
    if let Some(l) = &f.label_id {
        cond(
            &mut sql,
            binds,
            " AND EXISTS (SELECT 1 FROM conversation_labels cl \
              WHERE cl.conversation_id = c.id AND cl.clinic_id = c.clinic_id AND cl.label_id = ?)",
            Bind::Text(l.clone()),
        );
    }
    if let Some(p) = f.priority {
        cond(&mut sql, binds, " AND c.priority = ?", Bind::Int(p));
    }
    if let Some(from) = f.from_ms {
        let at = format!(" AND {time} >= ?");
        cond(&mut sql, binds, &at, Bind::Int(from));
    }
    if let Some(to) = f.to_ms {
        let at = format!(" AND {time} < ?");
        cond(&mut sql, binds, &at, Bind::Int(to));
    }
    sql
}

/// A message found, with what a result line shows.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct MessageHit {
    /// The index's order: pass the last one as `before` for the next page.
    pub seq: i64,
    pub message_id: String,
    pub conversation_id: String,
    pub channel_id: String,
    pub channel_kind: String,
    pub channel_name: String,
    pub direction: String,
    pub body: Option<String>,
    pub created_at: i64,
    pub patient_id: Option<String>,
    pub patient_name: Option<String>,
    pub title: Option<String>,
}

const HIT_COLS: &str =
    "m.id AS message_id, m.conversation_id, m.channel_id, ch.kind AS channel_kind,
    ch.name AS channel_name, m.direction, m.body, m.created_at, c.patient_id,
    p.display_name AS patient_name, c.title";

/// The clinic's messages matching `needle` and `facets`, newest first, after `before` (a
/// `seq`), at most `limit`.
pub async fn messages(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    needle: &Needle,
    facets: &Facets,
    before: Option<i64>,
    limit: i64,
) -> anyhow::Result<Vec<MessageHit>> {
    let sqlite = conn.backend_name() == "SQLite";
    let mut binds = vec![
        Bind::Text(needle.query_for(sqlite)),
        Bind::Text(clinic.as_str().to_owned()),
        Bind::Int(before.unwrap_or(i64::MAX)),
    ];
    let facets = facet_sql(facets, &mut binds);
    binds.push(Bind::Int(limit.clamp(1, 200)));
    let n = binds.len();
    let joins = "JOIN messages m ON m.id = d.doc_id
        JOIN conversations c ON c.id = m.conversation_id
        JOIN channels ch ON ch.id = m.channel_id
        LEFT JOIN patients p ON p.id = c.patient_id";
    let sql = if sqlite {
        format!(
            "SELECT f.rowid AS seq, {HIT_COLS} FROM search_fts f
             CROSS JOIN search_docs d ON d.seq = f.rowid {joins}
             WHERE search_fts MATCH $1 AND d.clinic_id = $2 AND d.kind = 'message'
               AND f.rowid < $3 AND m.clinic_id = $2{facets}
             ORDER BY f.rowid DESC LIMIT ${n}"
        )
    } else {
        format!(
            "SELECT d.seq, {HIT_COLS} FROM search_docs d {joins}
             WHERE d.grams @@ CAST($1 AS tsquery) AND d.clinic_id = $2 AND d.kind = 'message'
               AND d.seq < $3 AND m.clinic_id = $2{facets}
             ORDER BY d.seq DESC LIMIT ${n}"
        )
    };
    let mut q = sqlx::query_as::<_, MessageHit>(&sql);
    for b in binds {
        q = match b {
            Bind::Text(s) => q.bind(s),
            Bind::Int(i) => q.bind(i),
        };
    }
    q.fetch_all(conn).await.context("searching messages")
}

/// A private note found, with what a result line shows.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct NoteHit {
    /// The index's order, shared with messages: a page of both ends at one `seq`.
    pub seq: i64,
    pub note_id: String,
    pub conversation_id: String,
    pub channel_kind: String,
    pub author_staff_id: String,
    /// `None`: the author's account is gone.
    pub author_name: Option<String>,
    pub body: String,
    pub created_at: i64,
    pub patient_id: Option<String>,
    pub patient_name: Option<String>,
    pub title: Option<String>,
}

const NOTE_COLS: &str = "n.id AS note_id, n.conversation_id, ch.kind AS channel_kind,
    n.author_staff_id, s.display_name AS author_name, n.body, n.created_at, c.patient_id,
    p.display_name AS patient_name, c.title";

/// The clinic's notes matching `needle` and `facets` (over the note's conversation and time),
/// newest first, after `before` (a `seq`), at most `limit`. Notes are staff-only: the caller
/// checks the reader may read messages.
pub async fn notes(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    needle: &Needle,
    facets: &Facets,
    before: Option<i64>,
    limit: i64,
) -> anyhow::Result<Vec<NoteHit>> {
    let sqlite = conn.backend_name() == "SQLite";
    let mut binds = vec![
        Bind::Text(needle.query_for(sqlite)),
        Bind::Text(clinic.as_str().to_owned()),
        Bind::Int(before.unwrap_or(i64::MAX)),
    ];
    let facets = facet_sql_at(facets, &mut binds, "n.created_at");
    binds.push(Bind::Int(limit.clamp(1, 200)));
    let n = binds.len();
    let joins = "JOIN conversation_notes n ON n.id = d.doc_id
        JOIN conversations c ON c.id = n.conversation_id
        JOIN channels ch ON ch.id = c.channel_id
        LEFT JOIN patients p ON p.id = c.patient_id
        LEFT JOIN staff s ON s.id = n.author_staff_id";
    let sql = if sqlite {
        format!(
            "SELECT f.rowid AS seq, {NOTE_COLS} FROM search_note_fts f
             CROSS JOIN search_docs d ON d.seq = f.rowid {joins}
             WHERE search_note_fts MATCH $1 AND d.clinic_id = $2 AND d.kind = 'note'
               AND f.rowid < $3 AND n.clinic_id = $2 AND c.clinic_id = $2{facets}
             ORDER BY f.rowid DESC LIMIT ${n}"
        )
    } else {
        format!(
            "SELECT d.seq, {NOTE_COLS} FROM search_docs d {joins}
             WHERE d.grams @@ CAST($1 AS tsquery) AND d.clinic_id = $2 AND d.kind = 'note'
               AND d.seq < $3 AND n.clinic_id = $2 AND c.clinic_id = $2{facets}
             ORDER BY d.seq DESC LIMIT ${n}"
        )
    };
    let mut q = sqlx::query_as::<_, NoteHit>(&sql);
    for b in binds {
        q = match b {
            Bind::Text(s) => q.bind(s),
            Bind::Int(i) => q.bind(i),
        };
    }
    q.fetch_all(conn).await.context("searching notes")
}
