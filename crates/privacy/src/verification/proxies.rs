//! Someone acting for a patient — a parent for a child, family for an elderly patient — linked
//! with the relationship and never merged: each keeps their own record and conversations.
use anyhow::Context;
use serde::Serialize;
use sqlx::{AnyConnection, FromRow};
use tsunagu_core::{new_id, ClinicId, Code, Refusal};
use tsunagu_store::Db;

use crate::audit::{self, Actor, AuditEntry};

pub const RELATIONSHIPS: [&str; 6] = ["parent", "child", "spouse", "family", "caregiver", "other"];

/// Who acts for the patient.
#[derive(Clone, Debug)]
pub enum ProxyOf {
    Identity(String),
    Patient(String),
}

#[derive(Clone, Debug, FromRow, Serialize)]
pub struct ProxyRow {
    pub id: String,
    pub patient_id: String,
    pub proxy_identity_id: Option<String>,
    pub proxy_patient_id: Option<String>,
    pub relationship: String,
    pub created_by: Option<String>,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
}
const COLS: &str = "id, patient_id, proxy_identity_id, proxy_patient_id, relationship, created_by, created_at, revoked_at";

fn actor_id(a: &Actor) -> Option<&str> {
    match a {
        Actor::Staff(s) | Actor::Token(s) => Some(s),
        _ => None,
    }
}

/// Adds a proxy; refused (`invalid_relationship`, `unknown_patient`, `unknown_proxy`) for a
/// relationship, patient or proxy this clinic does not know.
#[allow(clippy::too_many_arguments)]
pub async fn add(
    db: &Db,
    clinic: &ClinicId,
    patient_id: &str,
    proxy: ProxyOf,
    relationship: &str,
    actor: &Actor,
    source_ip: Option<&str>,
    now: i64,
) -> anyhow::Result<Result<ProxyRow, Refusal>> {
    if !RELATIONSHIPS.contains(&relationship) {
        return Ok(Err(Refusal::new(Code::InvalidRelationship)));
    }
    let mut tx = db.begin().await?;
    let conn = tx.conn();
    if !exists(conn, "patients", clinic, patient_id).await? {
        return Ok(Err(Refusal::new(Code::UnknownPatient)));
    }
    let (ident, patient) = match &proxy {
        ProxyOf::Identity(i) => (Some(i.as_str()), None),
        ProxyOf::Patient(p) => (None, Some(p.as_str())),
    };
    let known = match &proxy {
        ProxyOf::Identity(i) => exists(conn, "channel_identities", clinic, i).await?,
        ProxyOf::Patient(p) => p != patient_id && exists(conn, "patients", clinic, p).await?,
    };
    if !known {
        return Ok(Err(Refusal::new(Code::UnknownProxy)));
    }
    let id = new_id();
    sqlx::query(
        "INSERT INTO patient_proxies (id, clinic_id, patient_id, proxy_identity_id, proxy_patient_id, relationship, created_by, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&id)
    .bind(clinic.as_str())
    .bind(patient_id)
    .bind(ident)
    .bind(patient)
    .bind(relationship)
    .bind(actor_id(actor))
    .bind(now)
    .execute(&mut *conn)
    .await
    .context("adding the proxy")?;
    let proxy_id = ident.or(patient).unwrap_or_default();
    let entry = AuditEntry {
        clinic_id: Some(clinic),
        actor,
        action: "patient.proxy_added",
        subject_type: Some("patient"),
        subject_ids: &[patient_id, proxy_id, &id],
        source_ip,
    };
    audit::record(conn, db.backend(), entry, now).await?;
    let row = by_id(conn, clinic, &id)
        .await?
        .context("reading the new proxy back")?;
    tx.commit().await.context("adding the proxy")?;
    Ok(Ok(row))
}

async fn exists(
    conn: &mut AnyConnection,
    table: &str,
    clinic: &ClinicId,
    id: &str,
) -> anyhow::Result<bool> {
    let n: i64 = sqlx::query_scalar(&format!(
        "SELECT COUNT(*) FROM {table} WHERE id = $1 AND clinic_id = $2"
    ))
    .bind(id)
    .bind(clinic.as_str())
    .fetch_one(conn)
    .await
    .with_context(|| format!("checking {table}"))?;
    Ok(n > 0)
}

pub async fn by_id(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    id: &str,
) -> anyhow::Result<Option<ProxyRow>> {
    sqlx::query_as(&format!(
        "SELECT {COLS} FROM patient_proxies WHERE id = $1 AND clinic_id = $2"
    ))
    .bind(id)
    .bind(clinic.as_str())
    .fetch_optional(conn)
    .await
    .context("reading the proxy")
}

/// The patient's proxies, revoked ones too, newest first.
pub async fn list(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    patient_id: &str,
) -> anyhow::Result<Vec<ProxyRow>> {
    sqlx::query_as(&format!(
        "SELECT {COLS} FROM patient_proxies WHERE patient_id = $1 AND clinic_id = $2 ORDER BY created_at DESC, id DESC"
    ))
    .bind(patient_id)
    .bind(clinic.as_str())
    .fetch_all(conn)
    .await
    .context("listing the proxies")
}

/// Ends one of the patient's proxies (kept in the list as revoked); false when the patient has
/// no active proxy with that id.
pub async fn revoke(
    db: &Db,
    clinic: &ClinicId,
    patient_id: &str,
    id: &str,
    actor: &Actor,
    source_ip: Option<&str>,
    now: i64,
) -> anyhow::Result<bool> {
    let mut tx = db.begin().await?;
    let done = sqlx::query("UPDATE patient_proxies SET revoked_at = $1, revoked_by = $2 WHERE id = $3 AND clinic_id = $4 AND patient_id = $5 AND revoked_at IS NULL")
        .bind(now)
        .bind(actor_id(actor))
        .bind(id)
        .bind(clinic.as_str())
        .bind(patient_id)
        .execute(tx.conn())
        .await
        .context("revoking the proxy")?
        .rows_affected();
    if done == 0 {
        return Ok(false);
    }
    let entry = AuditEntry {
        clinic_id: Some(clinic),
        actor,
        action: "patient.proxy_revoked",
        subject_type: Some("patient_proxy"),
        subject_ids: &[id],
        source_ip,
    };
    audit::record(tx.conn(), db.backend(), entry, now).await?;
    tx.commit().await?;
    Ok(true)
}
