//! The `event_rules` and `event_rule_firings` tables (migration 0030). Every query names the
//! clinic; a rule's references (team, flow, sequence) are checked against the clinic when saved.
use anyhow::Context;
use sqlx::AnyConnection;
use tsunagu_core::{new_id, ClinicId};
use tsunagu_privacy::Cipher;

use super::{Action, Draft, Invalid, Kind, Rule};

const COLS: &str = "id, name, position, enabled, stop_later, trigger, conditions, actions";

#[derive(sqlx::FromRow)]
struct Row {
    id: String,
    name: String,
    position: i64,
    enabled: i64,
    stop_later: i64,
    trigger: String,
    conditions: String,
    actions: String,
}

impl Row {
    /// A row that no longer reads (written by a newer version) is skipped, never guessed at.
    fn read(self) -> Option<Rule> {
        Some(Rule {
            trigger: serde_json::from_str(&self.trigger).ok()?,
            conditions: serde_json::from_str(&self.conditions).ok()?,
            actions: serde_json::from_str(&self.actions).ok()?,
            id: self.id,
            name: self.name,
            position: self.position,
            enabled: self.enabled != 0,
            stop_later: self.stop_later != 0,
        })
    }
}

/// The clinic's rules in their order.
pub async fn list(conn: &mut AnyConnection, clinic: &ClinicId) -> anyhow::Result<Vec<Rule>> {
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "SELECT {COLS} FROM event_rules WHERE clinic_id = $1 ORDER BY position, created_at"
    ))
    .bind(clinic.as_str())
    .fetch_all(conn)
    .await
    .context("listing the event rules")?;
    Ok(rows.into_iter().filter_map(Row::read).collect())
}

/// The clinic's enabled rules for one kind of event, in order.
pub async fn enabled_for(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    kind: Kind,
) -> anyhow::Result<Vec<Rule>> {
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "SELECT {COLS} FROM event_rules WHERE clinic_id = $1 AND trigger_kind = $2 AND enabled = 1
         ORDER BY position, created_at"
    ))
    .bind(clinic.as_str())
    .bind(kind.as_str())
    .fetch_all(conn)
    .await
    .context("reading the event rules for an event")?;
    Ok(rows.into_iter().filter_map(Row::read).collect())
}

pub async fn get(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    id: &str,
) -> anyhow::Result<Option<Rule>> {
    let row: Option<Row> = sqlx::query_as(&format!(
        "SELECT {COLS} FROM event_rules WHERE id = $1 AND clinic_id = $2"
    ))
    .bind(id)
    .bind(clinic.as_str())
    .fetch_optional(conn)
    .await
    .context("reading an event rule")?;
    Ok(row.and_then(Row::read))
}

/// Refuses a team, flow or sequence that is not the clinic's.
async fn check_refs(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    d: &Draft,
) -> anyhow::Result<Result<(), Invalid>> {
    for a in &d.actions {
        let (table, id) = match a {
            Action::Assign { team_id } => ("teams", team_id),
            Action::StartFlow { flow_id } => ("automation_flows", flow_id),
            Action::Enroll { sequence_id } => ("sequences", sequence_id),
            _ => continue,
        };
        let found: Option<i64> = sqlx::query_scalar(&format!(
            "SELECT 1 FROM {table} WHERE id = $1 AND clinic_id = $2"
        ))
        .bind(id)
        .bind(clinic.as_str())
        .fetch_optional(&mut *conn)
        .await
        .context("checking an event rule's reference")?;
        if found.is_none() {
            return Ok(Err(Invalid {
                field: "actions",
                code: "unknown_reference",
            }));
        }
    }
    Ok(Ok(()))
}

fn json<T: serde::Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "[]".into())
}

/// Adds a rule at the end of the clinic's order. Its id, or why the draft was refused.
pub async fn create(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    cipher: &Cipher,
    draft: Draft,
    now_ms: i64,
) -> anyhow::Result<Result<String, Invalid>> {
    let d = match draft.check() {
        Ok(d) => d,
        Err(e) => return Ok(Err(e)),
    };
    if let Err(e) = check_refs(conn, clinic, &d).await? {
        return Ok(Err(e));
    }
    let id = new_id();
    let last: Option<i64> =
        sqlx::query_scalar("SELECT MAX(position) FROM event_rules WHERE clinic_id = $1")
            .bind(clinic.as_str())
            .fetch_one(&mut *conn)
            .await
            .context("reading the last rule's position")?;
    sqlx::query(
        "INSERT INTO event_rules (id, clinic_id, name, position, enabled, stop_later, trigger_kind, trigger, conditions, actions, webhook_secret, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12)",
    )
    .bind(&id)
    .bind(clinic.as_str())
    .bind(&d.name)
    .bind(last.unwrap_or(0) + 1)
    .bind(d.enabled as i64)
    .bind(d.stop_later as i64)
    .bind(d.trigger.kind.as_str())
    .bind(json(&d.trigger))
    .bind(json(&d.conditions))
    .bind(json(&d.actions))
    .bind(crate::flows::store::new_webhook_secret(cipher))
    .bind(now_ms)
    .execute(conn)
    .await
    .context("creating an event rule")?;
    Ok(Ok(id))
}

/// Replaces a rule's definition. `Ok(Ok(false))`: not the clinic's.
pub async fn update(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    id: &str,
    draft: Draft,
    now_ms: i64,
) -> anyhow::Result<Result<bool, Invalid>> {
    let d = match draft.check() {
        Ok(d) => d,
        Err(e) => return Ok(Err(e)),
    };
    if let Err(e) = check_refs(conn, clinic, &d).await? {
        return Ok(Err(e));
    }
    let done = sqlx::query(
        "UPDATE event_rules SET name = $3, enabled = $4, stop_later = $5, trigger_kind = $6,
         trigger = $7, conditions = $8, actions = $9, updated_at = $10
         WHERE id = $1 AND clinic_id = $2",
    )
    .bind(id)
    .bind(clinic.as_str())
    .bind(&d.name)
    .bind(d.enabled as i64)
    .bind(d.stop_later as i64)
    .bind(d.trigger.kind.as_str())
    .bind(json(&d.trigger))
    .bind(json(&d.conditions))
    .bind(json(&d.actions))
    .bind(now_ms)
    .execute(conn)
    .await
    .context("changing an event rule")?;
    Ok(Ok(done.rows_affected() > 0))
}

/// Switches a rule on or off. `false`: not the clinic's, or already so.
pub async fn set_enabled(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    id: &str,
    enabled: bool,
    now_ms: i64,
) -> anyhow::Result<bool> {
    let done = sqlx::query(
        "UPDATE event_rules SET enabled = $3, updated_at = $4
         WHERE id = $1 AND clinic_id = $2 AND enabled <> $3",
    )
    .bind(id)
    .bind(clinic.as_str())
    .bind(enabled as i64)
    .bind(now_ms)
    .execute(conn)
    .await
    .context("switching an event rule")?;
    Ok(done.rows_affected() > 0)
}

pub async fn delete(conn: &mut AnyConnection, clinic: &ClinicId, id: &str) -> anyhow::Result<bool> {
    sqlx::query("DELETE FROM event_rule_firings WHERE rule_id = $1 AND clinic_id = $2")
        .bind(id)
        .bind(clinic.as_str())
        .execute(&mut *conn)
        .await
        .context("deleting an event rule's firings")?;
    let done = sqlx::query("DELETE FROM event_rules WHERE id = $1 AND clinic_id = $2")
        .bind(id)
        .bind(clinic.as_str())
        .execute(conn)
        .await
        .context("deleting an event rule")?;
    Ok(done.rows_affected() > 0)
}

/// Puts the clinic's rules in the order of `ids`, which must name each of them once. `false`
/// (nothing written): the list is not exactly the clinic's rules.
pub async fn reorder(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    ids: &[String],
    now_ms: i64,
) -> anyhow::Result<bool> {
    let mut have: Vec<String> = list(conn, clinic)
        .await?
        .into_iter()
        .map(|r| r.id)
        .collect();
    let mut want = ids.to_vec();
    have.sort();
    want.sort();
    if have != want {
        return Ok(false);
    }
    for (i, id) in ids.iter().enumerate() {
        sqlx::query(
            "UPDATE event_rules SET position = $3, updated_at = $4 WHERE id = $1 AND clinic_id = $2",
        )
        .bind(id)
        .bind(clinic.as_str())
        .bind(i as i64 + 1)
        .bind(now_ms)
        .execute(&mut *conn)
        .await
        .context("ordering the event rules")?;
    }
    Ok(true)
}

/// Moves a rule one place up (`up`) or down. `false`: not the clinic's, or already at the end.
pub async fn shift(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    id: &str,
    up: bool,
    now_ms: i64,
) -> anyhow::Result<bool> {
    let mut ids: Vec<String> = list(conn, clinic)
        .await?
        .into_iter()
        .map(|r| r.id)
        .collect();
    let Some(i) = ids.iter().position(|r| r == id) else {
        return Ok(false);
    };
    let j = match up {
        true if i > 0 => i - 1,
        false if i + 1 < ids.len() => i + 1,
        _ => return Ok(false),
    };
    ids.swap(i, j);
    reorder(conn, clinic, &ids, now_ms).await
}

/// Claims one firing of `rule` for the event: `false` when it fired for it already.
pub async fn claim_firing(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    rule: &str,
    event_key: &str,
    conversation: Option<&str>,
    now_ms: i64,
) -> anyhow::Result<bool> {
    let done = sqlx::query(
        "INSERT INTO event_rule_firings (rule_id, clinic_id, event_key, conversation_id, fired_at)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (rule_id, event_key) DO NOTHING",
    )
    .bind(rule)
    .bind(clinic.as_str())
    .bind(event_key)
    .bind(conversation)
    .bind(now_ms)
    .execute(conn)
    .await
    .context("claiming an event rule's firing")?;
    Ok(done.rows_affected() > 0)
}

/// How many times each rule of the clinic fired (for the list).
pub async fn firing_counts(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
) -> anyhow::Result<Vec<(String, i64)>> {
    sqlx::query_as(
        "SELECT rule_id, COUNT(*) FROM event_rule_firings WHERE clinic_id = $1 GROUP BY rule_id",
    )
    .bind(clinic.as_str())
    .fetch_all(conn)
    .await
    .context("counting the event rules' firings")
}

/// The rule's webhook signing key (encrypted).
pub async fn webhook_secret(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    id: &str,
) -> anyhow::Result<Option<String>> {
    let s: Option<Option<String>> = sqlx::query_scalar(
        "SELECT webhook_secret FROM event_rules WHERE id = $1 AND clinic_id = $2",
    )
    .bind(id)
    .bind(clinic.as_str())
    .fetch_optional(conn)
    .await
    .context("reading an event rule's webhook key")?;
    Ok(s.flatten())
}
