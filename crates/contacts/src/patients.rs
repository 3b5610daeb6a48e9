//! Patient records: create, change, read with tags and custom values, list and search.
//! Every query is scoped by clinic. Callers own the transaction and write the audit row in it.
use std::collections::HashMap;

use anyhow::Context;
use chrono::NaiveDate;
use serde::Serialize;
use sqlx::AnyConnection;
use tsunagu_core::{new_id, ClinicId, PatientId};
use tsunagu_store::patients::{self as rows, Patient, PATIENT_COLS};

use crate::fields::{self, CustomField};
use crate::input::{validate, Changes, Mode, PatientInput};
use crate::{CardNumber, FieldError, Invalid};

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

/// A search over the clinic's patients, newest first.
#[derive(Clone, Debug, Default)]
pub struct ListQuery {
    /// Matched against name, kana, phone, card number and e-mail in their search form, so
    /// 山田, ヤマダ, やまだ and ﾔﾏﾀﾞ all find the patient they name.
    pub q: Option<String>,
    pub tag: Option<String>,
    /// Only patients created before this one (the last id of the previous page).
    pub before_id: Option<String>,
    pub limit: i64,
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
    push(&mut sets, "kana", c.kana.as_ref().map(|o| o.as_ref().map(|k| k.as_str().to_string())));
    push(&mut sets, "birth_date", c.birth_date.map(|o| o.map(|d| d.iso())));
    push(&mut sets, "sex", c.sex.map(|x| Some(x.as_str().to_string())));
    push(&mut sets, "phone", c.phone.as_ref().map(|o| o.as_ref().map(|p| p.as_str().to_string())));
    push(&mut sets, "email", c.email.as_ref().map(|o| o.as_ref().map(|e| e.as_str().to_string())));
    push(&mut sets, "card_number", c.card_number.as_ref().map(|o| o.as_ref().map(|n| n.as_str().to_string())));
    push(&mut sets, "language", s(&c.language));
    push(&mut sets, "preferred_channel", s(&c.preferred_channel));
    push(&mut sets, "note", s(&c.note));

    let assignments: Vec<String> = sets.iter().enumerate().map(|(i, (col, _))| format!("{col} = ${}", i + 1)).collect();
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
    let done = q.bind(now_ms).bind(id.as_str()).bind(clinic.as_str()).execute(&mut *conn).await;
    match done {
        Ok(r) if r.rows_affected() == 0 => return Err(PatientError::NotFound),
        Ok(_) => {}
        Err(e) if tsunagu_store::db::is_unique_violation(&e) => return Err(duplicate_card()),
        Err(e) => return Err(anyhow::Error::new(e).context("updating the patient").into()),
    }
    if let Some(tags) = &c.tags {
        write_tags(conn, clinic, id, tags, c.tags_add_only, now_ms).await?;
    }
    for (field_id, value) in &c.fields {
        write_value(conn, clinic, id, field_id, value.as_deref(), now_ms).await?;
    }
    rows::refresh_search_key(conn, id).await?;
    Ok(())
}

fn push(sets: &mut Vec<(&'static str, Option<String>)>, col: &'static str, v: Option<Option<String>>) {
    if let Some(v) = v {
        sets.push((col, v));
    }
}

fn duplicate_card() -> PatientError {
    PatientError::Invalid(vec![FieldError::from_invalid("card_number", Invalid("duplicate_card_number"))])
}

async fn write_tags(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    id: &PatientId,
    tags: &[String],
    add_only: bool,
    now_ms: i64,
) -> anyhow::Result<()> {
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
    Ok(())
}

async fn write_value(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    id: &PatientId,
    field_id: &str,
    value: Option<&str>,
    now_ms: i64,
) -> anyhow::Result<()> {
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
    q.execute(conn).await.context("storing a custom field value")?;
    Ok(())
}

/// The record with its tags and every custom field of the clinic, or `None` outside the clinic.
pub async fn get(conn: &mut AnyConnection, clinic: &ClinicId, id: &PatientId) -> anyhow::Result<Option<PatientRecord>> {
    let Some(patient) = rows::by_id(conn, clinic, id).await? else {
        return Ok(None);
    };
    let tags = tags_of(conn, clinic, &[id.as_str()]).await?.remove(id.as_str()).unwrap_or_default();
    let values: Vec<(String, String)> =
        sqlx::query_as("SELECT field_id, value FROM patient_field_values WHERE clinic_id = $1 AND patient_id = $2")
            .bind(clinic.as_str())
            .bind(id.as_str())
            .fetch_all(&mut *conn)
            .await
            .context("reading the patient's custom values")?;
    let mut values: HashMap<String, String> = values.into_iter().collect();
    let fields = fields::list(conn, clinic)
        .await?
        .into_iter()
        .map(|f| FieldValue { value: values.remove(&f.id), field: f })
        .collect();
    Ok(Some(PatientRecord { patient, tags, fields }))
}

/// The patient of the clinic holding this card (for verification and import).
pub async fn find_by_card(conn: &mut AnyConnection, clinic: &ClinicId, card: &CardNumber) -> anyhow::Result<Option<Patient>> {
    sqlx::query_as(&format!("SELECT {PATIENT_COLS} FROM patients WHERE clinic_id = $1 AND card_number = $2"))
        .bind(clinic.as_str())
        .bind(card.as_str())
        .fetch_optional(conn)
        .await
        .context("finding the patient by card number")
}

/// Tags of several patients of the clinic, each list sorted.
pub async fn tags_of(conn: &mut AnyConnection, clinic: &ClinicId, ids: &[&str]) -> anyhow::Result<HashMap<String, Vec<String>>> {
    let mut out: HashMap<String, Vec<String>> = HashMap::new();
    if ids.is_empty() {
        return Ok(out);
    }
    let marks: Vec<String> = (0..ids.len()).map(|i| format!("${}", i + 2)).collect();
    let sql = format!(
        "SELECT patient_id, tag FROM patient_tags WHERE clinic_id = $1 AND patient_id IN ({}) ORDER BY tag",
        marks.join(", ")
    );
    let mut q = sqlx::query_as::<_, (String, String)>(&sql).bind(clinic.as_str());
    for id in ids {
        q = q.bind(*id);
    }
    for (pid, tag) in q.fetch_all(conn).await.context("reading patient tags")? {
        out.entry(pid).or_default().push(tag);
    }
    Ok(out)
}

/// Every tag in use in the clinic with how many patients carry it, most used first.
pub async fn clinic_tags(conn: &mut AnyConnection, clinic: &ClinicId) -> anyhow::Result<Vec<(String, i64)>> {
    sqlx::query_as("SELECT tag, COUNT(*) AS n FROM patient_tags WHERE clinic_id = $1 GROUP BY tag ORDER BY n DESC, tag")
        .bind(clinic.as_str())
        .fetch_all(conn)
        .await
        .context("listing the clinic's tags")
}

/// A page of the clinic's patients, newest first, filtered by search text and tag.
pub async fn list(conn: &mut AnyConnection, clinic: &ClinicId, q: &ListQuery) -> anyhow::Result<Vec<Patient>> {
    let mut sql = format!("SELECT {PATIENT_COLS} FROM patients p WHERE p.clinic_id = $1");
    let mut binds: Vec<String> = vec![clinic.as_str().to_string()];
    if let Some(term) = q.q.as_deref().map(search_term).filter(|t| !t.is_empty()) {
        binds.push(format!("%{}%", escape_like(&term)));
        sql.push_str(&format!(" AND p.search_key LIKE ${} ESCAPE '\\'", binds.len()));
    }
    if let Some(tag) = q.tag.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        binds.push(tsunagu_core::text::squeeze_spaces(&tsunagu_core::text::fold_width(tag)));
        sql.push_str(&format!(
            " AND EXISTS (SELECT 1 FROM patient_tags t WHERE t.patient_id = p.id AND t.clinic_id = $1 AND t.tag = ${})",
            binds.len()
        ));
    }
    if let Some(before) = &q.before_id {
        binds.push(before.clone());
        sql.push_str(&format!(" AND p.id < ${}", binds.len()));
    }
    sql.push_str(&format!(" ORDER BY p.id DESC LIMIT ${}", binds.len() + 1));
    let mut query = sqlx::query_as::<_, Patient>(&sql);
    for b in binds {
        query = query.bind(b);
    }
    query.bind(q.limit.clamp(1, 500)).fetch_all(conn).await.context("listing patients")
}

/// A search term in the stored key's form. A phone-like term loses its separators, so
/// `090-1234` finds `+819012345678` through its national digits.
pub fn search_term(q: &str) -> String {
    let t = tsunagu_core::text::search_form(q);
    let phone_like = t.chars().filter(char::is_ascii_digit).count() >= 3
        && t.chars().all(|c| c.is_ascii_digit() || matches!(c, '-' | '+' | '(' | ')' | '.' | 'ー' | '−'));
    if phone_like {
        t.chars().filter(|c| c.is_ascii_digit() || *c == '+').collect()
    } else {
        t
    }
}

fn escape_like(s: &str) -> String {
    s.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}

/// A conversation of the patient, for links from the record.
#[derive(Clone, Debug, sqlx::FromRow, Serialize)]
pub struct PatientConversation {
    pub id: String,
    pub channel_id: String,
    pub kind: String,
    pub status: String,
    pub last_message_at: i64,
}

/// The patient's conversations, most recent first.
pub async fn conversations_of(conn: &mut AnyConnection, clinic: &ClinicId, id: &PatientId) -> anyhow::Result<Vec<PatientConversation>> {
    sqlx::query_as(
        "SELECT id, channel_id, kind, status, last_message_at FROM conversations
         WHERE clinic_id = $1 AND patient_id = $2 ORDER BY last_message_at DESC, id DESC",
    )
    .bind(clinic.as_str())
    .bind(id.as_str())
    .fetch_all(conn)
    .await
    .context("listing the patient's conversations")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_phone_like_search_term_keeps_only_digits() {
        assert_eq!(search_term("090-1234"), "0901234");
        assert_eq!(search_term("０９０ー１２３４"), "0901234");
        assert_eq!(search_term("やまだ"), "ヤマダ");
        assert_eq!(search_term("50%_off"), "50%_off");
    }
}
