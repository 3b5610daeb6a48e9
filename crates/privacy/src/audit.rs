//! The audit trail: append-only, each row chained to the previous by SHA-256, so an edited or
//! deleted row breaks the chain and `tsunagu audit verify` finds it. Rows carry ids, never
//! patient data.
use anyhow::Context;
use sha2::{Digest, Sha256};
use sqlx::{AnyConnection, FromRow};
use tsunagu_core::{new_id, ClinicId};
use tsunagu_store::{Backend, Db};

mod actions;
mod search;
pub use actions::ACTIONS;
pub use search::{search, Filter};

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Actor {
    Staff(String),
    Token(String),
    System,
    Anonymous,
}

impl Actor {
    fn kind(&self) -> &'static str {
        match self {
            Actor::Staff(_) => "staff",
            Actor::Token(_) => "token",
            Actor::System => "system",
            Actor::Anonymous => "anonymous",
        }
    }
    fn id(&self) -> Option<&str> {
        match self {
            Actor::Staff(s) | Actor::Token(s) => Some(s),
            _ => None,
        }
    }
}

/// What happened. `action` is one of [`ACTIONS`], such as `conversation.read`.
pub struct AuditEntry<'a> {
    pub clinic_id: Option<&'a ClinicId>,
    pub actor: &'a Actor,
    pub action: &'a str,
    pub subject_type: Option<&'a str>,
    pub subject_ids: &'a [&'a str],
    pub source_ip: Option<&'a str>,
}

#[derive(Clone, Debug, FromRow, serde::Serialize)]
pub struct AuditRow {
    pub seq: i64,
    pub id: String,
    pub clinic_id: Option<String>,
    pub actor_kind: String,
    pub actor_id: Option<String>,
    pub action: String,
    pub subject_type: Option<String>,
    pub subject_ids: String,
    pub source_ip: Option<String>,
    pub at: i64,
    pub prev_hash: String,
    pub hash: String,
}

const COLS: &str =
    "seq, id, clinic_id, actor_kind, actor_id, action, subject_type, subject_ids, source_ip, at, prev_hash, hash";
const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The hash covers every field but `seq`, in a fixed, unambiguous encoding.
fn row_hash(r: &AuditRow) -> String {
    let fields = serde_json::json!([
        r.id,
        r.clinic_id,
        r.actor_kind,
        r.actor_id,
        r.action,
        r.subject_type,
        r.subject_ids,
        r.source_ip,
        r.at,
        r.prev_hash
    ]);
    hex::encode(Sha256::digest(fields.to_string().as_bytes()))
}

/// Appends an entry. Call it inside the transaction of the change it records, so both commit
/// or neither does. Concurrent appends are serialised so the chain stays linear.
pub async fn record(
    conn: &mut AnyConnection,
    backend: Backend,
    e: AuditEntry<'_>,
    now_ms: i64,
) -> anyhow::Result<()> {
    if backend == Backend::Postgres {
        // Held until the transaction ends: one appender at a time reads the chain head.
        sqlx::query("SELECT pg_advisory_xact_lock(727275)")
            .execute(&mut *conn)
            .await
            .context("locking the audit chain")?;
    }
    let prev: Option<String> =
        sqlx::query_scalar("SELECT hash FROM audit_events ORDER BY seq DESC LIMIT 1")
            .fetch_optional(&mut *conn)
            .await
            .context("reading the audit chain head")?;
    let mut row = AuditRow {
        seq: 0,
        id: new_id(),
        clinic_id: e.clinic_id.map(|c| c.as_str().to_string()),
        actor_kind: e.actor.kind().into(),
        actor_id: e.actor.id().map(str::to_string),
        action: e.action.into(),
        subject_type: e.subject_type.map(str::to_string),
        subject_ids: serde_json::to_string(e.subject_ids).unwrap_or_else(|_| "[]".into()),
        source_ip: e.source_ip.map(str::to_string),
        at: now_ms,
        prev_hash: prev.unwrap_or_else(|| GENESIS.into()),
        hash: String::new(),
    };
    row.hash = row_hash(&row);
    sqlx::query(
        "INSERT INTO audit_events (id, clinic_id, actor_kind, actor_id, action, subject_type, subject_ids, source_ip, at, prev_hash, hash)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(&row.id)
    .bind(&row.clinic_id)
    .bind(&row.actor_kind)
    .bind(&row.actor_id)
    .bind(&row.action)
    .bind(&row.subject_type)
    .bind(&row.subject_ids)
    .bind(&row.source_ip)
    .bind(row.at)
    .bind(&row.prev_hash)
    .bind(&row.hash)
    .execute(conn)
    .await
    .context("appending to the audit trail")?;
    Ok(())
}

/// Appends an entry in its own transaction (for reads, which change nothing else).
pub async fn record_now(db: &Db, e: AuditEntry<'_>, now_ms: i64) -> anyhow::Result<()> {
    let mut tx = db.begin().await?;
    record(tx.conn(), db.backend(), e, now_ms).await?;
    tx.commit().await
}

#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    Intact { rows: u64 },
    Broken { seq: i64, reason: String },
}

/// Recomputes the whole chain.
pub async fn verify(db: &Db) -> anyhow::Result<Verdict> {
    let mut conn = db.pool().acquire().await?;
    let mut prev = GENESIS.to_string();
    let mut after = 0i64;
    let mut rows = 0u64;
    loop {
        let page: Vec<AuditRow> = sqlx::query_as(&format!(
            "SELECT {COLS} FROM audit_events WHERE seq > $1 ORDER BY seq LIMIT 1000"
        ))
        .bind(after)
        .fetch_all(&mut *conn)
        .await
        .context("reading the audit trail")?;
        if page.is_empty() {
            return Ok(Verdict::Intact { rows });
        }
        for r in page {
            if r.prev_hash != prev {
                return Ok(Verdict::Broken {
                    seq: r.seq,
                    reason: "does not follow the previous row (a row was removed or reordered)"
                        .into(),
                });
            }
            if row_hash(&r) != r.hash {
                return Ok(Verdict::Broken {
                    seq: r.seq,
                    reason: "its contents were changed after it was written".into(),
                });
            }
            prev = r.hash.clone();
            after = r.seq;
            rows += 1;
        }
    }
}

/// A clinic's entries, newest first, for the audit page and API.
pub async fn list(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    before_seq: Option<i64>,
    limit: i64,
) -> anyhow::Result<Vec<AuditRow>> {
    sqlx::query_as(&format!(
        "SELECT {COLS} FROM audit_events WHERE clinic_id = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3"
    ))
    .bind(clinic.as_str())
    .bind(before_seq.unwrap_or(i64::MAX))
    .bind(limit)
    .fetch_all(conn)
    .await
    .context("listing the audit trail")
}
