//! What a link moves from a provisional patient to the record, and keeps for undo.
use anyhow::Context;
use serde::{Deserialize, Serialize};
use sqlx::{AnyConnection, FromRow};

use super::link::LinkSpec;

/// The provisional patient's row as it was, to put back on undo.
#[derive(Clone, Debug, Default, FromRow, Serialize, Deserialize)]
pub(super) struct PatientSnapshot {
    pub(super) id: String,
    pub(super) clinic_id: String,
    pub(super) display_name: String,
    pub(super) kana: Option<String>,
    pub(super) birth_date: Option<String>,
    pub(super) phone: Option<String>,
    pub(super) email: Option<String>,
    pub(super) language: Option<String>,
    pub(super) picture_url: Option<String>,
    pub(super) provisional: i64,
    pub(super) created_at: i64,
    pub(super) updated_at: i64,
    pub(super) sex: String,
    pub(super) card_number: Option<String>,
    pub(super) preferred_channel: Option<String>,
    pub(super) note: Option<String>,
    pub(super) search_key: Option<String>,
}
pub(super) const SNAP_COLS: &str = "id, clinic_id, display_name, kana, birth_date, phone, email, language, picture_url, provisional, created_at, updated_at, sex, card_number, preferred_channel, note, search_key";

/// What a link changed: undo reverses exactly this.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(super) struct Moved {
    pub(super) was_verified: i64,
    pub(super) identities: Vec<String>,
    pub(super) conversations: Vec<String>,
    pub(super) consent_events: Vec<String>,
    pub(super) consent_prompts: Vec<String>,
    pub(super) tags_added: Vec<String>,
    /// The removed provisional patient, its tags and (field id, value, updated_at) rows.
    pub(super) removed: Option<PatientSnapshot>,
    pub(super) tags: Vec<String>,
    pub(super) field_values: Vec<(String, String, i64)>,
    /// The identity was already on the record: only the record's provisional flag changed.
    pub(super) record_was_provisional: Option<i64>,
}

pub(super) async fn ids(
    conn: &mut AnyConnection,
    sql: &str,
    bind: &str,
) -> anyhow::Result<Vec<String>> {
    let rows: Vec<(String,)> = sqlx::query_as(sql)
        .bind(bind)
        .fetch_all(conn)
        .await
        .context("listing rows to move")?;
    Ok(rows.into_iter().map(|(i,)| i).collect())
}

pub(super) async fn set_patient(
    conn: &mut AnyConnection,
    table: &str,
    col: &str,
    ids: &[String],
    to: &str,
) -> anyhow::Result<()> {
    for id in ids {
        sqlx::query(&format!("UPDATE {table} SET {col} = $1 WHERE id = $2"))
            .bind(to)
            .bind(id)
            .execute(&mut *conn)
            .await
            .with_context(|| format!("moving {table} rows"))?;
    }
    Ok(())
}

pub(super) async fn move_rows(
    conn: &mut AnyConnection,
    s: &LinkSpec<'_>,
    from: &str,
    m: &mut Moved,
    now: i64,
) -> anyhow::Result<()> {
    let snap: Option<PatientSnapshot> =
        sqlx::query_as(&format!("SELECT {SNAP_COLS} FROM patients WHERE id = $1"))
            .bind(from)
            .fetch_optional(&mut *conn)
            .await
            .context("reading the provisional patient")?;
    let provisional = snap.as_ref().is_some_and(|p| p.provisional != 0);
    if !provisional {
        // Off a real record: only this identity and its own conversations move.
        m.identities = vec![s.identity_id.to_string()];
        m.conversations = ids(
            conn,
            "SELECT id FROM conversations WHERE channel_identity_id = $1",
            s.identity_id,
        )
        .await?;
        set_patient(
            conn,
            "conversations",
            "patient_id",
            &m.conversations,
            s.to_patient,
        )
        .await?;
        return Ok(());
    }
    m.identities = ids(
        conn,
        "SELECT id FROM channel_identities WHERE patient_id = $1",
        from,
    )
    .await?;
    m.conversations = ids(
        conn,
        "SELECT id FROM conversations WHERE patient_id = $1",
        from,
    )
    .await?;
    m.consent_events = ids(
        conn,
        "SELECT id FROM consent_events WHERE patient_id = $1",
        from,
    )
    .await?;
    m.consent_prompts = ids(
        conn,
        "SELECT id FROM consent_prompts WHERE patient_id = $1",
        from,
    )
    .await?;
    set_patient(
        conn,
        "channel_identities",
        "patient_id",
        &m.identities,
        s.to_patient,
    )
    .await?;
    set_patient(
        conn,
        "conversations",
        "patient_id",
        &m.conversations,
        s.to_patient,
    )
    .await?;
    set_patient(
        conn,
        "consent_events",
        "patient_id",
        &m.consent_events,
        s.to_patient,
    )
    .await?;
    set_patient(
        conn,
        "consent_prompts",
        "patient_id",
        &m.consent_prompts,
        s.to_patient,
    )
    .await?;
    m.tags = ids(
        conn,
        "SELECT tag FROM patient_tags WHERE patient_id = $1",
        from,
    )
    .await?;
    for tag in &m.tags {
        let added = sqlx::query(
            "INSERT INTO patient_tags (clinic_id, patient_id, tag, created_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (patient_id, tag) DO NOTHING",
        )
        .bind(s.clinic.as_str())
        .bind(s.to_patient)
        .bind(tag)
        .bind(now)
        .execute(&mut *conn)
        .await
        .context("carrying a tag over")?
        .rows_affected();
        if added == 1 {
            m.tags_added.push(tag.clone());
        }
    }
    m.field_values = sqlx::query_as(
        "SELECT field_id, value, updated_at FROM patient_field_values WHERE patient_id = $1",
    )
    .bind(from)
    .fetch_all(&mut *conn)
    .await
    .context("keeping the provisional patient's fields")?;
    // Something else of this clinic (a proxy) may still name the provisional patient: keep it then.
    let referenced: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM patient_proxies WHERE patient_id = $1 OR proxy_patient_id = $1",
    )
    .bind(from)
    .fetch_one(&mut *conn)
    .await
    .context("checking what names the provisional patient")?;
    if referenced == 0 {
        for table in ["patient_tags", "patient_field_values"] {
            sqlx::query(&format!("DELETE FROM {table} WHERE patient_id = $1"))
                .bind(from)
                .execute(&mut *conn)
                .await
                .context("removing the provisional patient's details")?;
        }
        let search = tsunagu_store::search::PATIENT;
        tsunagu_store::search::forget(&mut *conn, search, &[from.to_owned()]).await?;
        sqlx::query("DELETE FROM patients WHERE id = $1")
            .bind(from)
            .execute(&mut *conn)
            .await
            .context("removing the provisional patient")?;
        m.removed = snap;
    }
    Ok(())
}
