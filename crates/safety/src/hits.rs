//! What triage found in each inbound message (`message_triage`): a row per assessed text, so
//! the conversation page can show the red marker with the phrases found and the sentiment.
use std::collections::HashMap;

use anyhow::Context;
use serde::{Deserialize, Serialize};
use sqlx::{AnyConnection, FromRow};
use tsunagu_core::ClinicId;
use tsunagu_triage::{Assessment, Sentiment};

use crate::settings::category_name;

/// One hit as stored: which rule and pattern, its category, the words of the message it
/// matched and where (a byte span of the trimmed text triage saw).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct StoredHit {
    pub rule_id: String,
    pub category: String,
    /// The words as the patient wrote them (`胸が痛く`).
    pub phrase: String,
    /// The rule's pattern (`胸…痛`).
    #[serde(default)]
    pub pattern: String,
    pub start: usize,
    pub end: usize,
}

/// A message's triage as read back.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Triage {
    pub urgent: bool,
    pub crisis: bool,
    pub hits: Vec<StoredHit>,
    /// positive | neutral | negative
    pub sentiment: String,
    pub sentiment_cues: Vec<String>,
}

impl Triage {
    /// Distinct categories, in the order found.
    pub fn categories(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for h in &self.hits {
            if !out.contains(&h.category) {
                out.push(h.category.clone());
            }
        }
        out
    }

    pub fn phrases(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for h in &self.hits {
            if !out.contains(&h.phrase) {
                out.push(h.phrase.clone());
            }
        }
        out
    }
}

pub fn sentiment_name(s: &Sentiment) -> &'static str {
    match s {
        Sentiment::Positive => "positive",
        Sentiment::Neutral => "neutral",
        Sentiment::Negative => "negative",
    }
}

/// The hits of `a`, an assessment of `text`, with the words each matched.
pub fn stored_hits(text: &str, a: &Assessment) -> Vec<StoredHit> {
    a.hits
        .iter()
        .map(|h| StoredHit {
            rule_id: h.rule_id.clone(),
            category: category_name(&h.category),
            phrase: text.get(h.start..h.end).unwrap_or(&h.phrase).to_string(),
            pattern: h.phrase.clone(),
            start: h.start,
            end: h.end,
        })
        .collect()
}

/// Records the assessment of `message`; `false` when it was recorded before (a retried job).
#[allow(clippy::too_many_arguments)]
pub async fn record(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    conversation_id: &str,
    message_id: &str,
    (text, a): (&str, &Assessment),
    sentiment: (&Sentiment, &[String]),
    now_ms: i64,
) -> anyhow::Result<bool> {
    let done = sqlx::query(
        "INSERT INTO message_triage (message_id, clinic_id, conversation_id, urgent, crisis, hits, sentiment, sentiment_cues, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (message_id) DO NOTHING",
    )
    .bind(message_id)
    .bind(clinic.as_str())
    .bind(conversation_id)
    .bind(i64::from(a.urgent))
    .bind(i64::from(a.crisis))
    .bind(serde_json::to_string(&stored_hits(text, a))?)
    .bind(sentiment_name(sentiment.0))
    .bind(serde_json::to_string(sentiment.1)?)
    .bind(now_ms)
    .execute(conn)
    .await
    .context("recording a message's triage")?;
    Ok(done.rows_affected() == 1)
}

/// The conversation's 不満の強い順 key from its latest assessed text (1 negative … -1 positive).
pub async fn set_dissatisfaction(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    conversation_id: &str,
    s: &Sentiment,
) -> anyhow::Result<()> {
    let d = match s {
        Sentiment::Negative => 1,
        Sentiment::Neutral => 0,
        Sentiment::Positive => -1,
    };
    sqlx::query("UPDATE conversations SET dissatisfaction = $1 WHERE id = $2 AND clinic_id = $3")
        .bind(d)
        .bind(conversation_id)
        .bind(clinic.as_str())
        .execute(conn)
        .await
        .context("keeping the conversation's sentiment")?;
    Ok(())
}

#[derive(FromRow)]
struct Row {
    message_id: String,
    urgent: i64,
    crisis: i64,
    hits: String,
    sentiment: String,
    sentiment_cues: String,
}

/// The triage of each of `ids` that has one (the clinic's only).
pub async fn of_messages(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    ids: &[&str],
) -> anyhow::Result<HashMap<String, Triage>> {
    let mut out = HashMap::new();
    if ids.is_empty() {
        return Ok(out);
    }
    let marks: Vec<String> = (0..ids.len()).map(|i| format!("${}", i + 2)).collect();
    let sql = format!(
        "SELECT message_id, urgent, crisis, hits, sentiment, sentiment_cues FROM message_triage
         WHERE clinic_id = $1 AND message_id IN ({})",
        marks.join(", ")
    );
    let mut q = sqlx::query_as::<_, Row>(&sql).bind(clinic.as_str());
    for id in ids {
        q = q.bind(*id);
    }
    let rows = q
        .fetch_all(conn)
        .await
        .context("reading the messages' triage")?;
    for r in rows {
        out.insert(
            r.message_id,
            Triage {
                urgent: r.urgent != 0,
                crisis: r.crisis != 0,
                hits: serde_json::from_str(&r.hits).unwrap_or_default(),
                sentiment: r.sentiment,
                sentiment_cues: serde_json::from_str(&r.sentiment_cues).unwrap_or_default(),
            },
        );
    }
    Ok(out)
}
