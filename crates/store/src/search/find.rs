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
    messages_walking(conn, clinic, needle, facets, before, limit, WALK).await
}

/// [`messages`] with PostgreSQL checking the newest `walk` documents one by one before it asks
/// the index (tests use a small window so both paths meet).
pub async fn messages_walking(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    needle: &Needle,
    facets: &Facets,
    before: Option<i64>,
    limit: i64,
    walk: i64,
) -> anyhow::Result<Vec<MessageHit>> {
    let limit = limit.clamp(1, 200);
    let before = before.unwrap_or(i64::MAX);
    if conn.backend_name() == "SQLite" {
        let sql = |facets: &str, n: usize| {
            format!(
                "SELECT f.rowid AS seq, {HIT_COLS} FROM search_fts f
                 CROSS JOIN search_docs d ON d.seq = f.rowid {MESSAGE_JOINS}
                 WHERE search_fts MATCH $1 AND d.clinic_id = $2 AND d.kind = 'message'
                   AND f.rowid < $3 AND m.clinic_id = $2{facets}
                 ORDER BY f.rowid DESC LIMIT ${n}"
            )
        };
        return run_messages(conn, clinic, needle, facets, before, limit, true, sql).await;
    }
    // PostgreSQL cannot tell how common a phrase is (it guesses two rows): it either walks
    // every document newest first (a rare phrase: 0.7 s) or fetches every match to sort them
    // (a common one: 39,000 rows, 0.3 s). So: walk the newest documents first, which finds a
    // common phrase's page at once; only if that window holds too few, ask the index for the
    // matches below it, which are then few.
    let walked = |facets: &str, n: usize| {
        format!(
            "SELECT d.seq, {HIT_COLS} FROM (SELECT seq, doc_id, grams FROM search_docs
               WHERE clinic_id = $2 AND kind = 'message' AND seq < $3
               ORDER BY seq DESC LIMIT {walk}) d {MESSAGE_JOINS}
             WHERE d.grams @@ CAST($1 AS tsquery) AND m.clinic_id = $2{facets}
             ORDER BY d.seq DESC LIMIT ${n}"
        )
    };
    let mut hits = run_messages(conn, clinic, needle, facets, before, limit, false, walked).await?;
    let found = i64::try_from(hits.len()).unwrap_or(limit);
    if found >= limit {
        return Ok(hits);
    }
    // Every match in the window is in `hits`: the rest lie below the lowest one.
    let below = hits.last().map_or(before, |h| h.seq);
    let indexed = |facets: &str, n: usize| {
        format!(
            "WITH d AS MATERIALIZED (SELECT seq, doc_id FROM search_docs
               WHERE grams @@ CAST($1 AS tsquery) AND clinic_id = $2 AND kind = 'message'
                 AND seq < $3)
             SELECT d.seq, {HIT_COLS} FROM d {MESSAGE_JOINS}
             WHERE m.clinic_id = $2{facets}
             ORDER BY d.seq DESC LIMIT ${n}"
        )
    };
    let more = limit - found;
    let rest = run_messages(conn, clinic, needle, facets, below, more, false, indexed).await?;
    hits.extend(rest);
    Ok(hits)
}

/// How many of the newest documents PostgreSQL checks one by one before asking the index.
const WALK: i64 = 5_000;

const MESSAGE_JOINS: &str = "JOIN messages m ON m.id = d.doc_id
        JOIN conversations c ON c.id = m.conversation_id
        JOIN channels ch ON ch.id = m.channel_id
        LEFT JOIN patients p ON p.id = c.patient_id";

/// Runs one message query built by `sql(facets, limit's $n)` with the shared binds.
#[allow(clippy::too_many_arguments)]
async fn run_messages(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    needle: &Needle,
    facets: &Facets,
    before: i64,
    limit: i64,
    sqlite: bool,
    sql: impl Fn(&str, usize) -> String,
) -> anyhow::Result<Vec<MessageHit>> {
    let mut binds = vec![
        Bind::Text(needle.query_for(sqlite)),
        Bind::Text(clinic.as_str().to_owned()),
        Bind::Int(before),
    ];
    let facets = facet_sql(facets, &mut binds);
    binds.push(Bind::Int(limit));
    let sql = sql(&facets, binds.len());
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
        // Notes are few beside messages: their own index's matches, sorted (walking every
        // document newest first, as PostgreSQL would choose, passes all the messages).
        format!(
            "WITH d AS MATERIALIZED (SELECT seq, doc_id FROM search_docs
               WHERE grams @@ CAST($1 AS tsquery) AND clinic_id = $2 AND kind = 'note'
                 AND seq < $3)
             SELECT d.seq, {NOTE_COLS} FROM d {joins}
             WHERE n.clinic_id = $2 AND c.clinic_id = $2{facets}
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
