//! Patient records: create, change, read with tags and custom values, list and search.
//! Every query is scoped by clinic. Callers own the transaction and write the audit row in it.
use std::collections::HashMap;

use anyhow::Context;
use chrono::NaiveDate;
use serde::Serialize;
use sqlx::AnyConnection;
use tsunagu_core::{new_id, ClinicId, Code, PatientId};
use tsunagu_store::patients::{self as rows, Patient, PATIENT_COLS};

use crate::fields::{self, CustomField};
use crate::input::{validate, Changes, Mode, PatientInput};
use crate::{CardNumber, FieldError, Invalid};

pub use crate::search::{
    clinic_tags, conversations_of, list, tags_of, unverified_of, ListQuery, PatientConversation,
};

#[derive(Debug, thiserror::Error)]
pub enum PatientError {
    /// Every refused field, with its stable code.
    #[error("invalid_patient")]
    Invalid(Vec<FieldError>),
    #[error("not_found")]
    NotFound,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// A custom field with this patient's value (`None`: no value yet).
#[derive(Clone, Debug, Serialize)]
pub struct FieldValue {
    pub field: CustomField,
    pub value: Option<String>,
}

/// A record as staff see it: the row, its tags and every custom field of the clinic.
#[derive(Clone, Debug, Serialize)]
pub struct PatientRecord {
    pub patient: Patient,
    pub tags: Vec<String>,
    pub fields: Vec<FieldValue>,
}

/// Creates a record from staff or API input (not provisional: the clinic entered it).
pub async fn create(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    input: &PatientInput,
    today: NaiveDate,
    now_ms: i64,
) -> Result<PatientId, PatientError> {
    let defs = fields::list(conn, clinic).await?;
    let changes = validate(input, &defs, Mode::Create, today).map_err(PatientError::Invalid)?;
    insert(conn, clinic, &changes, now_ms).await
}

/// Changes the fields `input` mentions and leaves the rest.
pub async fn update(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    id: &PatientId,
    input: &PatientInput,
    today: NaiveDate,
    now_ms: i64,
) -> Result<(), PatientError> {
    let defs = fields::list(conn, clinic).await?;
    let changes = validate(input, &defs, Mode::Update, today).map_err(PatientError::Invalid)?;
    apply(conn, clinic, id, &changes, now_ms).await
}

/// Inserts checked changes as a new record.
pub async fn insert(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    c: &Changes,
    now_ms: i64,
) -> Result<PatientId, PatientError> {
    let id = PatientId::from_db(new_id());
    sqlx::query(
        "INSERT INTO patients (id, clinic_id, display_name, provisional, created_at, updated_at)
         VALUES ($1, $2, $3, 0, $4, $4)",
    )
    .bind(id.as_str())
    .bind(clinic.as_str())
    .bind(c.name.as_deref().unwrap_or_default())
    .bind(now_ms)
    .execute(&mut *conn)
    .await
    .context("creating the patient")?;
    apply(conn, clinic, &id, c, now_ms).await?;
    Ok(id)
}

/// Writes checked changes to an existing record of the clinic.
pub async fn apply(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    id: &PatientId,
    c: &Changes,
    now_ms: i64,
) -> Result<(), PatientError> {
    if let Some(Some(card)) = &c.card_number {
        if let Some(other) = find_by_card(conn, clinic, card).await? {
            if other.id != id.as_str() {
                return Err(duplicate_card());
            }
        }
    }
    let mut sets: Vec<(&str, Option<String>)> = Vec::new();
    let s = |v: &Option<Option<String>>| v.clone();
    if let Some(n) = &c.name {
        sets.push(("display_name", Some(n.clone())));
    }
    push(
        &mut sets,
        "kana",
        c.kana
            .as_ref()
            .map(|o| o.as_ref().map(|k| k.as_str().to_string())),
    );
    push(
        &mut sets,
        "birth_date",
        c.birth_date.map(|o| o.map(|d| d.iso())),
    );
    push(
        &mut sets,
        "sex",
        c.sex.map(|x| Some(x.as_str().to_string())),
    );
    push(
        &mut sets,
        "phone",
        c.phone
            .as_ref()
            .map(|o| o.as_ref().map(|p| p.as_str().to_string())),
    );
    push(
        &mut sets,
        "email",
        c.email
            .as_ref()
            .map(|o| o.as_ref().map(|e| e.as_str().to_string())),
    );
    push(
        &mut sets,
        "card_number",
        c.card_number
            .as_ref()
            .map(|o| o.as_ref().map(|n| n.as_str().to_string())),
    );
    push(&mut sets, "language", s(&c.language));
    push(&mut sets, "preferred_channel", s(&c.preferred_channel));
    push(&mut sets, "note", s(&c.note));

    let assignments: Vec<String> = sets
        .iter()
        .enumerate()
        .map(|(i, (col, _))| format!("{col} = ${}", i + 1))
        .collect();
    let n = sets.len();
    let sql = format!(
        "UPDATE patients SET {}{}updated_at = ${} WHERE id = ${} AND clinic_id = ${}",
        assignments.join(", "),
        if n > 0 { ", " } else { "" },
        n + 1,
        n + 2,
        n + 3
    );
    let mut q = sqlx::query(&sql);
    for (_, v) in &sets {
        q = q.bind(v.clone());
    }
    let done = q
        .bind(now_ms)
        .bind(id.as_str())
        .bind(clinic.as_str())
        .execute(&mut *conn)
        .await;
    match done {
        Ok(r) if r.rows_affected() == 0 => return Err(PatientError::NotFound),
        Ok(_) => {}
        Err(e) if tsunagu_store::db::is_unique_violation(&e) => return Err(duplicate_card()),
        Err(e) => return Err(anyhow::Error::new(e).context("updating the patient").into()),
    }
    let mut tags_added = Vec::new();
    if let Some(tags) = &c.tags {
        tags_added = write_tags(conn, clinic, id, tags, c.tags_add_only, now_ms).await?;
    }
    let mut fields_set = Vec::new();
    let mut fields_changed = false;
    for (field_id, value) in &c.fields {
        if write_value(conn, clinic, id, field_id, value.as_deref(), now_ms).await? {
            fields_changed = true;
            if let Some(v) = value {
                fields_set.push((field_id.clone(), v.clone()));
            }
        }
    }
    if !tags_added.is_empty() {
        queue_rule_event(conn, clinic, id, &tags_added, c.rule_depth, now_ms).await?;
    }
    if fields_changed {
        // Rich menus may follow a field (初診/再診) as they follow tags.
        queue_tag_change(conn, clinic, id, now_ms).await?;
    }
    if !tags_added.is_empty() || !fields_set.is_empty() {
        queue_sequence_trigger(conn, clinic, id, tags_added, fields_set, now_ms).await?;
    }
    rows::refresh_search_key(conn, id).await?;
    Ok(())
}

fn push(
    sets: &mut Vec<(&'static str, Option<String>)>,
    col: &'static str,
    v: Option<Option<String>>,
) {
    if let Some(v) = v {
        sets.push((col, v));
    }
}

fn duplicate_card() -> PatientError {
    PatientError::Invalid(vec![FieldError::from_invalid(
        "card_number",
        Invalid(Code::DuplicateCardNumber),
    )])
}

async fn write_tags(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    id: &PatientId,
    tags: &[String],
    add_only: bool,
    now_ms: i64,
) -> anyhow::Result<Vec<String>> {
    let before = tags_of(conn, clinic, &[id.as_str()]).await?;
    let before = before.get(id.as_str()).cloned().unwrap_or_default();
    if !add_only {
        sqlx::query("DELETE FROM patient_tags WHERE patient_id = $1 AND clinic_id = $2")
            .bind(id.as_str())
            .bind(clinic.as_str())
            .execute(&mut *conn)
            .await
            .context("clearing the patient's tags")?;
    }
    for t in tags {
        sqlx::query(
            "INSERT INTO patient_tags (clinic_id, patient_id, tag, created_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (patient_id, tag) DO NOTHING",
        )
        .bind(clinic.as_str())
        .bind(id.as_str())
        .bind(t)
        .bind(now_ms)
        .execute(&mut *conn)
        .await
        .context("tagging the patient")?;
    }
    let after = tags_of(conn, clinic, &[id.as_str()]).await?;
    let after = after.get(id.as_str()).cloned().unwrap_or_default();
    if after != before {
        queue_tag_change(conn, clinic, id, now_ms).await?;
    }
    Ok(after.into_iter().filter(|t| !before.contains(t)).collect())
}

/// Tags added are an event for the clinic's event rules (自動ルール), queued with this change:
/// each change its own event (key minted here), `depth` rules deep.
async fn queue_rule_event(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    id: &PatientId,
    tags: &[String],
    depth: u8,
    now_ms: i64,
) -> anyhow::Result<()> {
    use tsunagu_core::jobs::{EventRuleFire, RuleEventKind};
    use tsunagu_store::jobs::{enqueue, Enqueue};
    let event_key = format!("tag:{}", new_id());
    let key = format!("event_rule:{event_key}");
    let job = EventRuleFire {
        clinic_id: clinic.clone(),
        kind: RuleEventKind::PatientTagged,
        event_key,
        message_id: None,
        patient_id: Some(id.as_str().to_owned()),
        conversation_id: None,
        tags: tags.to_vec(),
        purpose: None,
        granted: None,
        depth,
    };
    let at = Enqueue {
        clinic_id: Some(clinic),
        idempotency_key: &key,
        run_at: now_ms,
    };
    enqueue(conn, &job, at, now_ms).await?;
    Ok(())
}

/// Tags added and fields set may enroll the patient in a step sequence or reach its goal:
/// `sequence.trigger` decides (queued here, in the transaction that changed them).
async fn queue_sequence_trigger(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    id: &PatientId,
    tags_added: Vec<String>,
    fields_set: Vec<(String, String)>,
    now_ms: i64,
) -> anyhow::Result<()> {
    use tsunagu_store::jobs::{enqueue, Enqueue};
    let job = tsunagu_core::jobs::SequenceTrigger {
        clinic_id: clinic.clone(),
        patient_id: id.as_str().to_owned(),
        tags_added,
        fields_set,
    };
    let key = format!(
        "sequence.trigger:{}:{}",
        id.as_str(),
        tsunagu_core::new_id()
    );
    let at = Enqueue {
        clinic_id: Some(clinic),
        idempotency_key: &key,
        run_at: now_ms,
    };
    enqueue(conn, &job, at, now_ms).await?;
    Ok(())
}

/// Tags and custom fields decide a patient's LINE rich menu: `rich_menu.assign` re-applies the rules (queued,
/// never LINE called inside this transaction; it does nothing where no rule applies).
async fn queue_tag_change(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    id: &PatientId,
    now_ms: i64,
) -> anyhow::Result<()> {
    use tsunagu_store::jobs::{enqueue, Enqueue};
    let job = tsunagu_core::jobs::RichMenuAssign {
        clinic_id: clinic.clone(),
        patient_id: Some(id.as_str().to_owned()),
        channel_id: None,
    };
    // Each change its own job: two changes in one millisecond must both be applied.
    let key = format!(
        "rich_menu.assign:{}:{}",
        id.as_str(),
        tsunagu_core::new_id()
    );
    let at = Enqueue {
        clinic_id: Some(clinic),
        idempotency_key: &key,
        run_at: now_ms,
    };
    enqueue(conn, &job, at, now_ms).await?;
    Ok(())
}

async fn write_value(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    id: &PatientId,
    field_id: &str,
    value: Option<&str>,
    now_ms: i64,
) -> anyhow::Result<bool> {
    let old: Option<String> = sqlx::query_scalar(
        "SELECT value FROM patient_field_values WHERE clinic_id = $1 AND patient_id = $2 AND field_id = $3",
    )
    .bind(clinic.as_str())
    .bind(id.as_str())
    .bind(field_id)
    .fetch_optional(&mut *conn)
    .await
    .context("reading a custom field value")?;
    if old.as_deref() == value {
        return Ok(false);
    }
    let q = match value {
        Some(v) => sqlx::query(
            "INSERT INTO patient_field_values (clinic_id, patient_id, field_id, value, updated_at)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (patient_id, field_id) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
        )
        .bind(clinic.as_str())
        .bind(id.as_str())
        .bind(field_id)
        .bind(v.to_string())
        .bind(now_ms),
        None => sqlx::query("DELETE FROM patient_field_values WHERE clinic_id = $1 AND patient_id = $2 AND field_id = $3")
            .bind(clinic.as_str())
            .bind(id.as_str())
            .bind(field_id),
    };
    q.execute(conn)
        .await
        .context("storing a custom field value")?;
    Ok(true)
}

/// The record with its tags and every custom field of the clinic, or `None` outside the clinic.
pub async fn get(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    id: &PatientId,
) -> anyhow::Result<Option<PatientRecord>> {
    let Some(patient) = rows::by_id(conn, clinic, id).await? else {
        return Ok(None);
    };
    let tags = tags_of(conn, clinic, &[id.as_str()])
        .await?
        .remove(id.as_str())
        .unwrap_or_default();
    let values: Vec<(String, String)> = sqlx::query_as(
        "SELECT field_id, value FROM patient_field_values WHERE clinic_id = $1 AND patient_id = $2",
    )
    .bind(clinic.as_str())
    .bind(id.as_str())
    .fetch_all(&mut *conn)
    .await
    .context("reading the patient's custom values")?;
    let mut values: HashMap<String, String> = values.into_iter().collect();
    let fields = fields::list(conn, clinic)
        .await?
        .into_iter()
        .map(|f| FieldValue {
            value: values.remove(&f.id),
            field: f,
        })
        .collect();
    Ok(Some(PatientRecord {
        patient,
        tags,
        fields,
    }))
}

/// The patient of the clinic holding this card (for verification and import).
pub async fn find_by_card(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    card: &CardNumber,
) -> anyhow::Result<Option<Patient>> {
    sqlx::query_as(&format!(
        "SELECT {PATIENT_COLS} FROM patients WHERE clinic_id = $1 AND card_number = $2"
    ))
    .bind(clinic.as_str())
    .bind(card.as_str())
    .fetch_optional(conn)
    .await
    .context("finding the patient by card number")
}
