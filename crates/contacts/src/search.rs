//! Finding patients: the list with search and tag filter, tags, who is unverified, and a
//! patient's conversations. Every query is scoped by clinic.
use std::collections::HashMap;

use anyhow::Context;
use serde::Serialize;
use sqlx::AnyConnection;
use tsunagu_core::{ClinicId, PatientId};
use tsunagu_store::patients::{Patient, PATIENT_COLS};
use tsunagu_store::search::{self, grams::Needle};

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

/// Tags of several patients of the clinic, each list sorted.
pub async fn tags_of(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    ids: &[&str],
) -> anyhow::Result<HashMap<String, Vec<String>>> {
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
pub async fn clinic_tags(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
) -> anyhow::Result<Vec<(String, i64)>> {
    sqlx::query_as("SELECT tag, COUNT(*) AS n FROM patient_tags WHERE clinic_id = $1 GROUP BY tag ORDER BY n DESC, tag")
        .bind(clinic.as_str())
        .fetch_all(conn)
        .await
        .context("listing the clinic's tags")
}

/// A page of the clinic's patients, newest first, filtered by search text and tag.
pub async fn list(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    q: &ListQuery,
) -> anyhow::Result<Vec<Patient>> {
    let mut sql = format!("SELECT {PATIENT_COLS} FROM patients p WHERE p.clinic_id = $1");
    let mut binds: Vec<String> = vec![clinic.as_str().to_string()];
    // Substring of any field of the key, through the search index (a LIKE would read every
    // patient of the clinic).
    if let Some(needle) = q.q.as_deref().map(search_term).and_then(|t| Needle::of(&t)) {
        let sqlite = conn.backend_name() == "SQLite";
        binds.push(needle.query_for(sqlite));
        let ids = tsunagu_store::search::matching_ids(sqlite, search::PATIENT, binds.len(), 1);
        sql.push_str(&format!(" AND p.id IN ({ids})"));
    }
    if let Some(tag) = q.tag.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
        binds.push(tsunagu_core::text::squeeze_spaces(
            &tsunagu_core::text::fold_width(tag),
        ));
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
    query
        .bind(q.limit.clamp(1, 500))
        .fetch_all(conn)
        .await
        .context("listing patients")
}

/// A search term in the stored key's form. A phone-like term loses its separators, so
/// `090-1234` finds `+819012345678` through its national digits.
pub fn search_term(q: &str) -> String {
    let t = tsunagu_core::text::search_form(q);
    let phone_like = t.chars().filter(char::is_ascii_digit).count() >= 3
        && t.chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '-' | '+' | '(' | ')' | '.' | 'ー' | '−'));
    if phone_like {
        t.chars()
            .filter(|c| c.is_ascii_digit() || *c == '+')
            .collect()
    } else {
        t
    }
}

/// Those of `ids` whose identity is not yet proven: provisional, or with an unverified channel
/// identity. Staff see them with the "unverified" badge.
pub async fn unverified_of(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    ids: &[&str],
) -> anyhow::Result<Vec<String>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let marks: Vec<String> = (0..ids.len()).map(|i| format!("${}", i + 2)).collect();
    let sql = format!(
        "SELECT p.id FROM patients p WHERE p.clinic_id = $1 AND p.id IN ({}) AND (p.provisional <> 0 OR EXISTS
         (SELECT 1 FROM channel_identities ci WHERE ci.patient_id = p.id AND ci.clinic_id = $1 AND ci.verified = 0))",
        marks.join(", ")
    );
    let mut q = sqlx::query_scalar::<_, String>(&sql).bind(clinic.as_str());
    for id in ids {
        q = q.bind(*id);
    }
    q.fetch_all(conn)
        .await
        .context("finding unverified patients")
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
pub async fn conversations_of(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    id: &PatientId,
) -> anyhow::Result<Vec<PatientConversation>> {
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
