//! Undoing a link: the provisional patient comes back with its tags and fields, and every row
//! the link moved goes back to it, so the record is as it was before.
use anyhow::Context;
use sqlx::AnyConnection;
use tsunagu_core::{ClinicId, Code, Refusal};
use tsunagu_store::Db;

use super::link::{by_id, LinkRow};
use super::moves::{set_patient, Moved, PatientSnapshot, SNAP_COLS};
use crate::audit::{self, Actor, AuditEntry};

/// Puts back exactly what the link changed (audited as `identity.link_undone`).
pub async fn undo(
    db: &Db,
    clinic: &ClinicId,
    link_id: &str,
    actor: &Actor,
    source_ip: Option<&str>,
    now: i64,
) -> anyhow::Result<Result<LinkRow, Refusal>> {
    let mut tx = db.begin().await?;
    let conn = tx.conn();
    let Some(link) = by_id(conn, clinic, link_id).await? else {
        return Ok(Err(Refusal::new(Code::UnknownLink)));
    };
    if link.undone_at.is_some() {
        return Ok(Err(Refusal::new(Code::AlreadyUndone)));
    }
    let later: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM identity_links WHERE identity_id = $1 AND undone_at IS NULL AND (at > $2 OR (at = $2 AND id > $3))",
    )
    .bind(&link.identity_id)
    .bind(link.at)
    .bind(&link.id)
    .fetch_one(&mut *conn)
    .await
    .context("looking for later links")?;
    if later > 0 {
        return Ok(Err(Refusal::new(Code::NotLatestLink)));
    }
    let moved_json: String = sqlx::query_scalar("SELECT moved FROM identity_links WHERE id = $1")
        .bind(&link.id)
        .fetch_one(&mut *conn)
        .await
        .context("reading what the link moved")?;
    let m: Moved = serde_json::from_str(&moved_json).context("reading what the link moved")?;
    let from = link.from_patient_id.as_str();
    if let Some(p) = &m.removed {
        restore_patient(conn, p, &m).await?;
    }
    if let Some(flag) = m.record_was_provisional {
        sqlx::query("UPDATE patients SET provisional = $1 WHERE id = $2")
            .bind(flag)
            .bind(from)
            .execute(&mut *conn)
            .await?;
    }
    set_patient(
        conn,
        "channel_identities",
        "patient_id",
        &m.identities,
        from,
    )
    .await?;
    set_patient(conn, "conversations", "patient_id", &m.conversations, from).await?;
    set_patient(
        conn,
        "consent_events",
        "patient_id",
        &m.consent_events,
        from,
    )
    .await?;
    set_patient(
        conn,
        "consent_prompts",
        "patient_id",
        &m.consent_prompts,
        from,
    )
    .await?;
    for tag in &m.tags_added {
        sqlx::query("DELETE FROM patient_tags WHERE patient_id = $1 AND tag = $2")
            .bind(&link.to_patient_id)
            .bind(tag)
            .execute(&mut *conn)
            .await
            .context("removing a carried-over tag")?;
    }
    sqlx::query("UPDATE channel_identities SET verified = $1, updated_at = $2 WHERE id = $3")
        .bind(m.was_verified)
        .bind(now)
        .bind(&link.identity_id)
        .execute(&mut *conn)
        .await
        .context("restoring the identity's verified state")?;
    let by = match actor {
        Actor::Staff(s) | Actor::Token(s) => Some(s.as_str()),
        _ => None,
    };
    sqlx::query("UPDATE identity_links SET undone_at = $1, undone_by = $2 WHERE id = $3")
        .bind(now)
        .bind(by)
        .bind(&link.id)
        .execute(&mut *conn)
        .await
        .context("marking the link undone")?;
    let entry = AuditEntry {
        clinic_id: Some(clinic),
        actor,
        action: "identity.link_undone",
        subject_type: Some("channel_identity"),
        subject_ids: &[&link.identity_id, &link.to_patient_id, from, &link.id],
        source_ip,
    };
    audit::record(conn, db.backend(), entry, now).await?;
    tx.commit().await.context("undoing the link")?;
    Ok(Ok(LinkRow {
        undone_at: Some(now),
        undone_by: by.map(str::to_string),
        ..link
    }))
}

async fn restore_patient(
    conn: &mut AnyConnection,
    p: &PatientSnapshot,
    m: &Moved,
) -> anyhow::Result<()> {
    sqlx::query(&format!(
        "INSERT INTO patients ({SNAP_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)"
    ))
    .bind(&p.id)
    .bind(&p.clinic_id)
    .bind(&p.display_name)
    .bind(&p.kana)
    .bind(&p.birth_date)
    .bind(&p.phone)
    .bind(&p.email)
    .bind(&p.language)
    .bind(&p.picture_url)
    .bind(p.provisional)
    .bind(p.created_at)
    .bind(p.updated_at)
    .bind(&p.sex)
    .bind(&p.card_number)
    .bind(&p.preferred_channel)
    .bind(&p.note)
    .bind(&p.search_key)
    .execute(&mut *conn)
    .await
    .context("restoring the provisional patient")?;
    if let Some(key) = &p.search_key {
        tsunagu_store::search::reindex_patient(&mut *conn, &p.clinic_id, &p.id, key).await?;
    }
    for tag in &m.tags {
        sqlx::query("INSERT INTO patient_tags (clinic_id, patient_id, tag, created_at) VALUES ($1, $2, $3, $4)")
            .bind(&p.clinic_id)
            .bind(&p.id)
            .bind(tag)
            .bind(p.updated_at)
            .execute(&mut *conn)
            .await
            .context("restoring a tag")?;
    }
    for (field, value, at) in &m.field_values {
        sqlx::query("INSERT INTO patient_field_values (clinic_id, patient_id, field_id, value, updated_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(&p.clinic_id)
            .bind(&p.id)
            .bind(field)
            .bind(value)
            .bind(*at)
            .execute(&mut *conn)
            .await
            .context("restoring a field value")?;
    }
    Ok(())
}
