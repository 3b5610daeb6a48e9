//! The flow tables' SQL (migration 0028): flows with their draft, published versions, and runs.
//! Every query is scoped by clinic. A run's answer is claimed by one conditional UPDATE on its
//! `seq`, so a redelivery or a second worker never advances a run twice.
use anyhow::Context;
use sqlx::{AnyConnection, FromRow};
use tsunagu_core::{new_id, ClinicId};
use tsunagu_privacy::crypto::random_token;
use tsunagu_privacy::Cipher;

use super::definition::{Definition, Problem};
use super::engine::{Run, State};

#[derive(Clone, Debug, FromRow)]
pub struct FlowRow {
    pub id: String,
    pub clinic_id: String,
    pub name: String,
    pub enabled: i64,
    pub draft: String,
    pub published_version: Option<i64>,
    pub created_at: i64,
    pub updated_at: i64,
}

impl FlowRow {
    pub fn is_enabled(&self) -> bool {
        self.enabled != 0
    }
    /// The draft as saved (an unreadable one reads as empty, so the page can still show it).
    pub fn draft(&self) -> Definition {
        Definition::parse(&self.draft).unwrap_or_else(|_| Definition::empty())
    }
}

const FLOW_COLS: &str =
    "id, clinic_id, name, enabled, draft, published_version, created_at, updated_at";

pub const MAX_NAME: usize = 50;

/// A flow's name: 1–50 characters once trimmed.
pub fn name_ok(name: &str) -> bool {
    (1..=MAX_NAME).contains(&name.trim().chars().count())
}

/// One published version, without its definition.
#[derive(Clone, Debug, FromRow)]
pub struct VersionRow {
    pub version: i64,
    pub published_at: i64,
    /// `staff:<id>` or `token:<id>`.
    pub published_by: Option<String>,
}

/// A flow's published versions, newest first.
pub async fn versions(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    flow_id: &str,
) -> anyhow::Result<Vec<VersionRow>> {
    sqlx::query_as(
        "SELECT version, published_at, published_by FROM automation_flow_versions
         WHERE flow_id = $1 AND clinic_id = $2 ORDER BY version DESC",
    )
    .bind(flow_id)
    .bind(clinic.as_str())
    .fetch_all(conn)
    .await
    .context("listing a flow's versions")
}

pub async fn list(conn: &mut AnyConnection, clinic: &ClinicId) -> anyhow::Result<Vec<FlowRow>> {
    sqlx::query_as(&format!(
        "SELECT {FLOW_COLS} FROM automation_flows WHERE clinic_id = $1 ORDER BY created_at, id"
    ))
    .bind(clinic.as_str())
    .fetch_all(conn)
    .await
    .context("listing the clinic's flows")
}

pub async fn get(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    id: &str,
) -> anyhow::Result<Option<FlowRow>> {
    sqlx::query_as(&format!(
        "SELECT {FLOW_COLS} FROM automation_flows WHERE id = $1 AND clinic_id = $2"
    ))
    .bind(id)
    .bind(clinic.as_str())
    .fetch_optional(conn)
    .await
    .context("reading a flow")
}

/// A fresh key for signing a flow's webhooks, encrypted for storing (shown to staff on the
/// flow's page so the receiver can check signatures).
pub fn new_webhook_secret(cipher: &Cipher) -> String {
    let secret = format!("whsec_{}", random_token(32));
    cipher.encrypt(secret.as_bytes())
}

/// A new flow (disabled, unpublished) with `def` as its draft and its webhook key.
pub async fn create(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    name: &str,
    def: &Definition,
    cipher: &Cipher,
    now_ms: i64,
) -> anyhow::Result<String> {
    let id = new_id();
    sqlx::query(
        "INSERT INTO automation_flows (id, clinic_id, name, enabled, draft, webhook_secret, created_at, updated_at)
         VALUES ($1, $2, $3, 0, $4, $5, $6, $6)",
    )
    .bind(&id)
    .bind(clinic.as_str())
    .bind(name.trim())
    .bind(def.to_json())
    .bind(new_webhook_secret(cipher))
    .bind(now_ms)
    .execute(conn)
    .await
    .context("creating a flow")?;
    Ok(id)
}

/// Saves the draft (and name). `false`: not the clinic's.
pub async fn save_draft(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    id: &str,
    name: &str,
    def: &Definition,
    now_ms: i64,
) -> anyhow::Result<bool> {
    let done = sqlx::query(
        "UPDATE automation_flows SET name = $1, draft = $2, updated_at = $3 WHERE id = $4 AND clinic_id = $5",
    )
    .bind(name.trim())
    .bind(def.to_json())
    .bind(now_ms)
    .bind(id)
    .bind(clinic.as_str())
    .execute(conn)
    .await
    .context("saving a flow's draft")?;
    Ok(done.rows_affected() == 1)
}

pub async fn set_enabled(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    id: &str,
    enabled: bool,
    now_ms: i64,
) -> anyhow::Result<bool> {
    let done = sqlx::query(
        "UPDATE automation_flows SET enabled = $1, updated_at = $2 WHERE id = $3 AND clinic_id = $4",
    )
    .bind(i64::from(enabled))
    .bind(now_ms)
    .bind(id)
    .bind(clinic.as_str())
    .execute(conn)
    .await
    .context("switching a flow")?;
    Ok(done.rows_affected() == 1)
}

pub async fn delete(conn: &mut AnyConnection, clinic: &ClinicId, id: &str) -> anyhow::Result<bool> {
    // Runs and versions go with it; a running dialogue simply ends (its conversation stays).
    for sql in [
        "DELETE FROM automation_flow_runs WHERE flow_id = $1 AND clinic_id = $2",
        "DELETE FROM automation_flow_versions WHERE flow_id = $1 AND clinic_id = $2",
        "UPDATE automation_keyword_rules SET flow_id = NULL WHERE flow_id = $1 AND clinic_id = $2",
    ] {
        sqlx::query(sql)
            .bind(id)
            .bind(clinic.as_str())
            .execute(&mut *conn)
            .await
            .context("deleting a flow's runs and versions")?;
    }
    let done = sqlx::query("DELETE FROM automation_flows WHERE id = $1 AND clinic_id = $2")
        .bind(id)
        .bind(clinic.as_str())
        .execute(conn)
        .await
        .context("deleting a flow")?;
    Ok(done.rows_affected() == 1)
}

/// Publishes the draft as the next version (runs already going keep theirs). `Ok(Err)`: the
/// draft's problems; `Ok(Ok(None))`: not the clinic's flow.
pub async fn publish(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    id: &str,
    by: Option<&str>,
    now_ms: i64,
) -> anyhow::Result<Result<Option<i64>, Vec<Problem>>> {
    let Some(flow) = get(conn, clinic, id).await? else {
        return Ok(Ok(None));
    };
    let def = match Definition::parse(&flow.draft) {
        Ok(d) => d,
        Err(_) => {
            return Ok(Err(vec![Problem {
                step: 0,
                what: "unreadable",
            }]))
        }
    };
    let problems = def.check();
    if !problems.is_empty() {
        return Ok(Err(problems));
    }
    let version = flow.published_version.unwrap_or(0) + 1;
    sqlx::query(
        "INSERT INTO automation_flow_versions (flow_id, clinic_id, version, definition, published_at, published_by)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(id)
    .bind(clinic.as_str())
    .bind(version)
    .bind(def.to_json())
    .bind(now_ms)
    .bind(by)
    .execute(&mut *conn)
    .await
    .context("publishing a flow version")?;
    // Conditional on the version read: two publishes at once make one of them fail above.
    sqlx::query(
        "UPDATE automation_flows SET published_version = $1, updated_at = $2 WHERE id = $3 AND clinic_id = $4",
    )
    .bind(version)
    .bind(now_ms)
    .bind(id)
    .bind(clinic.as_str())
    .execute(conn)
    .await
    .context("pointing the flow at its new version")?;
    Ok(Ok(Some(version)))
}

/// A published version's definition.
pub async fn version(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    flow_id: &str,
    version: i64,
) -> anyhow::Result<Option<Definition>> {
    let json: Option<String> = sqlx::query_scalar(
        "SELECT definition FROM automation_flow_versions WHERE flow_id = $1 AND clinic_id = $2 AND version = $3",
    )
    .bind(flow_id)
    .bind(clinic.as_str())
    .bind(version)
    .fetch_optional(conn)
    .await
    .context("reading a flow version")?;
    json.map(|j| Definition::parse(&j)).transpose()
}

/// The webhook secret as stored (encrypted), if any.
pub async fn webhook_secret(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    flow_id: &str,
) -> anyhow::Result<Option<String>> {
    let s: Option<Option<String>> = sqlx::query_scalar(
        "SELECT webhook_secret FROM automation_flows WHERE id = $1 AND clinic_id = $2",
    )
    .bind(flow_id)
    .bind(clinic.as_str())
    .fetch_optional(conn)
    .await
    .context("reading a flow's webhook secret")?;
    Ok(s.flatten())
}

pub async fn set_webhook_secret(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    flow_id: &str,
    encrypted: &str,
) -> anyhow::Result<()> {
    sqlx::query("UPDATE automation_flows SET webhook_secret = $1 WHERE id = $2 AND clinic_id = $3")
        .bind(encrypted)
        .bind(flow_id)
        .bind(clinic.as_str())
        .execute(conn)
        .await
        .context("storing a flow's webhook secret")?;
    Ok(())
}

#[derive(Clone, Debug, FromRow)]
pub struct RunRow {
    pub id: String,
    pub clinic_id: String,
    pub conversation_id: String,
    pub patient_id: Option<String>,
    pub flow_id: String,
    pub version: i64,
    pub state: String,
    pub step: Option<String>,
    pub answers: String,
    pub tries: i64,
    pub seq: i64,
    pub last_message_id: Option<String>,
    pub caller: Option<String>,
    pub started_at: i64,
    pub updated_at: i64,
    pub expires_at: i64,
}

impl RunRow {
    pub fn run(&self) -> Run {
        Run {
            version: self.version,
            step: self.step.clone(),
            answers: serde_json::from_str(&self.answers).unwrap_or_default(),
            tries: self.tries.max(0) as u32,
            state: State::parse(&self.state).unwrap_or(State::Cancelled),
        }
    }
}

const RUN_COLS: &str = "id, clinic_id, conversation_id, patient_id, flow_id, version, state, step, answers, tries, seq, last_message_id, caller, started_at, updated_at, expires_at";

/// The run waiting in this conversation, if any.
pub async fn running(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    conversation_id: &str,
) -> anyhow::Result<Option<RunRow>> {
    sqlx::query_as(&format!(
        "SELECT {RUN_COLS} FROM automation_flow_runs WHERE conversation_id = $1 AND clinic_id = $2 AND state = 'running'"
    ))
    .bind(conversation_id)
    .bind(clinic.as_str())
    .fetch_optional(conn)
    .await
    .context("looking for a running flow")
}

pub async fn run_by_id(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    id: &str,
) -> anyhow::Result<Option<RunRow>> {
    sqlx::query_as(&format!(
        "SELECT {RUN_COLS} FROM automation_flow_runs WHERE id = $1 AND clinic_id = $2"
    ))
    .bind(id)
    .bind(clinic.as_str())
    .fetch_optional(conn)
    .await
    .context("reading a flow run")
}

/// Where a new run belongs.
pub struct NewRun<'a> {
    pub clinic: &'a ClinicId,
    pub conversation_id: &'a str,
    pub patient_id: Option<&'a str>,
    pub flow_id: &'a str,
    pub caller: Option<&'a str>,
}

/// Stores a new run; `None` when the conversation already has one running (it keeps that one).
pub async fn insert_run(
    conn: &mut AnyConnection,
    n: NewRun<'_>,
    run: &Run,
    now_ms: i64,
    expires_at: i64,
) -> anyhow::Result<Option<String>> {
    let id = new_id();
    let done = sqlx::query(
        "INSERT INTO automation_flow_runs (id, clinic_id, conversation_id, patient_id, flow_id, version, state, step, answers, tries, seq, caller, started_at, updated_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 0, $11, $12, $12, $13)
         ON CONFLICT (conversation_id) WHERE state = 'running' DO NOTHING",
    )
    .bind(&id)
    .bind(n.clinic.as_str())
    .bind(n.conversation_id)
    .bind(n.patient_id)
    .bind(n.flow_id)
    .bind(run.version)
    .bind(run.state.as_str())
    .bind(run.step.as_deref())
    .bind(serde_json::to_string(&run.answers)?)
    .bind(i64::from(run.tries))
    .bind(n.caller)
    .bind(now_ms)
    .bind(expires_at)
    .execute(conn)
    .await
    .context("starting a flow run")?;
    Ok((done.rows_affected() == 1).then_some(id))
}

/// Claims the move from `row` (as read) to `new`: `false` when someone else moved it first
/// (another worker, a redelivery) or it is no longer running. `message_id`: the answer taken.
pub async fn claim(
    conn: &mut AnyConnection,
    row: &RunRow,
    new: &Run,
    message_id: Option<&str>,
    now_ms: i64,
    expires_at: i64,
) -> anyhow::Result<bool> {
    let done = sqlx::query(
        "UPDATE automation_flow_runs SET state = $1, step = $2, answers = $3, tries = $4, seq = seq + 1,
             last_message_id = COALESCE($5, last_message_id), updated_at = $6, expires_at = $7
         WHERE id = $8 AND clinic_id = $9 AND seq = $10 AND state = 'running'",
    )
    .bind(new.state.as_str())
    .bind(new.step.as_deref())
    .bind(serde_json::to_string(&new.answers)?)
    .bind(i64::from(new.tries))
    .bind(message_id)
    .bind(now_ms)
    .bind(expires_at)
    .bind(&row.id)
    .bind(&row.clinic_id)
    .bind(row.seq)
    .execute(conn)
    .await
    .context("advancing a flow run")?;
    Ok(done.rows_affected() == 1)
}
