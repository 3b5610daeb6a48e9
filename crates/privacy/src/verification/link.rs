//! Linking a channel identity to a patient record, and undoing it exactly. A provisional
//! patient (created by a first message) hands everything to the record — conversations,
//! identities, consent rows, open prompts, tags — and its row is removed; what undo needs is
//! kept in `identity_links.moved`. An identity moved off a real record takes only itself and
//! its own conversations.
use anyhow::Context;
use serde::Serialize;
use sqlx::{AnyConnection, FromRow};
use tsunagu_core::{new_id, ClinicId, Code, Refusal};
use tsunagu_store::{Backend, Db};

use super::moves::{move_rows, Moved};
use crate::audit::{self, Actor, AuditEntry};

#[derive(Clone, Debug)]
pub enum LinkActor {
    /// The patient proved it in chat.
    Patient,
    Staff(String),
    Token(String),
}

impl LinkActor {
    fn kind_id(&self) -> (&'static str, Option<&str>) {
        match self {
            LinkActor::Patient => ("patient", None),
            LinkActor::Staff(s) => ("staff", Some(s)),
            LinkActor::Token(t) => ("token", Some(t)),
        }
    }
    fn audit(&self) -> Actor {
        match self {
            LinkActor::Patient => Actor::System,
            LinkActor::Staff(s) => Actor::Staff(s.clone()),
            LinkActor::Token(t) => Actor::Token(t.clone()),
        }
    }
}

pub struct LinkSpec<'a> {
    pub clinic: &'a ClinicId,
    pub identity_id: &'a str,
    pub to_patient: &'a str,
    /// chat | code | staff
    pub how: &'static str,
    pub reason: Option<&'a str>,
    pub actor: LinkActor,
    pub source_ip: Option<&'a str>,
}

#[derive(Clone, Debug, FromRow, Serialize)]
pub struct LinkRow {
    pub id: String,
    pub identity_id: String,
    pub from_patient_id: String,
    pub to_patient_id: String,
    pub how: String,
    pub reason: Option<String>,
    pub actor_kind: String,
    pub actor_id: Option<String>,
    pub at: i64,
    pub undone_at: Option<i64>,
    pub undone_by: Option<String>,
}
const LINK_COLS: &str = "id, identity_id, from_patient_id, to_patient_id, how, reason, actor_kind, actor_id, at, undone_at, undone_by";

/// A staff member links an identity to a record; the reason is required and recorded.
#[allow(clippy::too_many_arguments)]
pub async fn link_by_staff(
    db: &Db,
    clinic: &ClinicId,
    identity_id: &str,
    patient_id: &str,
    reason: &str,
    actor: LinkActor,
    source_ip: Option<&str>,
    now: i64,
) -> anyhow::Result<Result<String, Refusal>> {
    let reason = reason.trim();
    if reason.is_empty() {
        return Ok(Err(Refusal::new(Code::ReasonRequired)));
    }
    let mut tx = db.begin().await?;
    let spec = LinkSpec {
        clinic,
        identity_id,
        to_patient: patient_id,
        how: "staff",
        reason: Some(reason),
        actor,
        source_ip,
    };
    let out = link_in(tx.conn(), db.backend(), spec, now).await?;
    if out.is_ok() {
        tx.commit().await.context("linking the identity")?;
    }
    Ok(out)
}

/// Links inside the caller's transaction, audited as `identity.verified` (patient proof) or
/// `identity.linked` (staff, API).
pub async fn link_in(
    conn: &mut AnyConnection,
    backend: Backend,
    s: LinkSpec<'_>,
    now: i64,
) -> anyhow::Result<Result<String, Refusal>> {
    let ident: Option<(String, i64)> = sqlx::query_as(
        "SELECT patient_id, verified FROM channel_identities WHERE id = $1 AND clinic_id = $2",
    )
    .bind(s.identity_id)
    .bind(s.clinic.as_str())
    .fetch_optional(&mut *conn)
    .await
    .context("reading the identity to link")?;
    let Some((from, was_verified)) = ident else {
        return Ok(Err(Refusal::new(Code::UnknownIdentity)));
    };
    let target: Option<(i64,)> =
        sqlx::query_as("SELECT provisional FROM patients WHERE id = $1 AND clinic_id = $2")
            .bind(s.to_patient)
            .bind(s.clinic.as_str())
            .fetch_optional(&mut *conn)
            .await
            .context("reading the record to link to")?;
    let Some((target_provisional,)) = target else {
        return Ok(Err(Refusal::new(Code::UnknownPatient)));
    };
    if from == s.to_patient && was_verified != 0 && target_provisional == 0 {
        return Ok(Err(Refusal::new(Code::AlreadyLinked)));
    }
    let mut moved = Moved {
        was_verified,
        ..Moved::default()
    };
    if from == s.to_patient {
        moved.record_was_provisional = Some(target_provisional);
        sqlx::query("UPDATE patients SET provisional = 0, updated_at = $1 WHERE id = $2")
            .bind(now)
            .bind(s.to_patient)
            .execute(&mut *conn)
            .await
            .context("marking the record verified")?;
    } else {
        move_rows(conn, &s, &from, &mut moved, now).await?;
    }
    sqlx::query("UPDATE channel_identities SET patient_id = $1, verified = 1, updated_at = $2 WHERE id = $3")
        .bind(s.to_patient)
        .bind(now)
        .bind(s.identity_id)
        .execute(&mut *conn)
        .await
        .context("marking the identity verified")?;
    sqlx::query("UPDATE verification_sessions SET step = 'idle', failed_attempts = 0, locked_until = NULL, card_number = NULL, code_hash = NULL, updated_at = $1 WHERE identity_id = $2")
        .bind(now)
        .bind(s.identity_id)
        .execute(&mut *conn)
        .await
        .context("closing the verification dialogue")?;
    let link_id = new_id();
    let (actor_kind, actor_id) = s.actor.kind_id();
    sqlx::query(
        "INSERT INTO identity_links (id, clinic_id, identity_id, from_patient_id, to_patient_id, how, reason, actor_kind, actor_id, moved, at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(&link_id)
    .bind(s.clinic.as_str())
    .bind(s.identity_id)
    .bind(&from)
    .bind(s.to_patient)
    .bind(s.how)
    .bind(s.reason)
    .bind(actor_kind)
    .bind(actor_id)
    .bind(serde_json::to_string(&moved)?)
    .bind(now)
    .execute(&mut *conn)
    .await
    .context("recording the link")?;
    let action = if matches!(s.actor, LinkActor::Patient) {
        "identity.verified"
    } else {
        "identity.linked"
    };
    let actor = s.actor.audit();
    let entry = AuditEntry {
        clinic_id: Some(s.clinic),
        actor: &actor,
        action,
        subject_type: Some("channel_identity"),
        subject_ids: &[s.identity_id, s.to_patient, &from, &link_id],
        source_ip: s.source_ip,
    };
    audit::record(conn, backend, entry, now).await?;
    Ok(Ok(link_id))
}

pub async fn by_id(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    id: &str,
) -> anyhow::Result<Option<LinkRow>> {
    sqlx::query_as(&format!(
        "SELECT {LINK_COLS} FROM identity_links WHERE id = $1 AND clinic_id = $2"
    ))
    .bind(id)
    .bind(clinic.as_str())
    .fetch_optional(conn)
    .await
    .context("reading the link")
}

/// Links into or out of this patient, newest first.
pub async fn history(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    patient: &str,
) -> anyhow::Result<Vec<LinkRow>> {
    sqlx::query_as(&format!(
        "SELECT {LINK_COLS} FROM identity_links WHERE clinic_id = $1 AND (to_patient_id = $2 OR from_patient_id = $2)
         ORDER BY at DESC, id DESC"
    ))
    .bind(clinic.as_str())
    .bind(patient)
    .fetch_all(conn)
    .await
    .context("reading the link history")
}
