//! Verification by a one-time code sent to the phone or e-mail already on the record. tsunagu
//! has no SMS or e-mail channel yet, so the only sender today is [`NoCodeChannel`], which can
//! send nothing: the dispatcher then tells the patient to use card number + birth date. A real
//! sender plugs in through [`CodeSender`] when those channels arrive.
use anyhow::Context;
use rand::Rng;
use sha2::{Digest, Sha256};
use sqlx::AnyConnection;
use tsunagu_core::ClinicId;
use tsunagu_store::Db;

use super::normalize;
use super::session::{self, locked, set_step, Answer, SessionRow, Subject};

/// How long a code is good for.
pub const CODE_TTL_MS: i64 = 10 * 60_000;

/// Where a code goes: a contact already on the record, never one the patient types.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    Phone(String),
    Email(String),
}

#[async_trait::async_trait]
pub trait CodeSender: Send + Sync {
    /// Whether this clinic has a channel able to send codes at all (asked before the card
    /// number is looked up, so the answer reveals nothing about the records).
    fn available(&self, clinic: &ClinicId) -> bool;
    async fn send(&self, clinic: &ClinicId, to: &Target, code: &str) -> anyhow::Result<()>;
}

/// Today's sender: no SMS or e-mail channel exists yet.
pub struct NoCodeChannel;

#[async_trait::async_trait]
impl CodeSender for NoCodeChannel {
    fn available(&self, _: &ClinicId) -> bool {
        false
    }
    async fn send(&self, _: &ClinicId, _: &Target, _: &str) -> anyhow::Result<()> {
        anyhow::bail!("no channel can send verification codes")
    }
}

#[derive(Debug, PartialEq, Eq)]
pub enum CodeRequest {
    /// No channel can send codes: offer card number + birth date.
    Unavailable,
    InvalidCard,
    Locked {
        until: i64,
    },
    /// "If the card number is on file, a code was sent" — the same answer either way.
    Requested,
}

fn hash(session_id: &str, code: &str) -> String {
    hex::encode(Sha256::digest(format!("{session_id}:{code}").as_bytes()))
}

/// The patient gave a card number and asks for a code to the contact on that record.
pub async fn request<S: CodeSender>(
    db: &Db,
    s: &Subject<'_>,
    card_text: &str,
    sender: &S,
    now: i64,
) -> anyhow::Result<CodeRequest> {
    if !sender.available(s.clinic) {
        return Ok(CodeRequest::Unavailable);
    }
    let Some(card) = normalize::card_number(card_text) else {
        return Ok(CodeRequest::InvalidCard);
    };
    let mut tx = db.begin().await?;
    if let Some(until) = session::load(tx.conn(), s.identity_id)
        .await?
        .and_then(|r| locked(&r, now))
    {
        return Ok(CodeRequest::Locked { until });
    }
    set_step(tx.conn(), s, "awaiting_code", Some(&card), now).await?;
    let rec: Option<(String, Option<String>, Option<String>)> = sqlx::query_as(
        "SELECT id, phone, email FROM patients WHERE clinic_id = $1 AND card_number = $2",
    )
    .bind(s.clinic.as_str())
    .bind(&card)
    .fetch_optional(tx.conn())
    .await
    .context("finding the record for a code")?;
    let target = rec.as_ref().and_then(|(_, phone, email)| {
        phone
            .clone()
            .map(Target::Phone)
            .or_else(|| email.clone().map(Target::Email))
    });
    let (Some((patient_id, _, _)), Some(target)) = (rec.clone(), target) else {
        tx.commit().await?;
        return Ok(CodeRequest::Requested);
    };
    let code = format!("{:06}", rand::thread_rng().gen_range(0..1_000_000));
    let session_id: String =
        sqlx::query_scalar("SELECT id FROM verification_sessions WHERE identity_id = $1")
            .bind(s.identity_id)
            .fetch_one(tx.conn())
            .await?;
    sqlx::query(
        "UPDATE verification_sessions SET code_hash = $1, code_expires_at = $2, code_attempts = 0, code_patient_id = $3 WHERE id = $4",
    )
    .bind(hash(&session_id, &code))
    .bind(now + CODE_TTL_MS)
    .bind(&patient_id)
    .bind(&session_id)
    .execute(tx.conn())
    .await
    .context("storing the code's hash")?;
    tx.commit().await?;
    sender.send(s.clinic, &target, &code).await?;
    Ok(CodeRequest::Requested)
}

/// The patient's answer while a code is awaited: right → linked; wrong → counted with the
/// dialogue's other failures (three lock it); expired → start over.
pub(crate) async fn check(
    conn: &mut AnyConnection,
    db: &Db,
    s: &Subject<'_>,
    row: &SessionRow,
    text: &str,
    now: i64,
) -> anyhow::Result<Answer> {
    let typed: String = tsunagu_core::text::fold_width(text)
        .chars()
        .filter(char::is_ascii_digit)
        .collect();
    if typed.len() != 6 {
        return Ok(Answer::InvalidCode);
    }
    if row.code_expires_at.is_none_or(|e| e <= now) {
        set_step(conn, s, "idle", None, now).await?;
        return Ok(Answer::CodeExpired);
    }
    let right = row.code_hash.as_deref().is_some_and(|h| {
        let want = hash(&row.id, &typed);
        subtle::ConstantTimeEq::ct_eq(h.as_bytes(), want.as_bytes()).into()
    });
    match (&row.code_patient_id, right) {
        (Some(patient), true) => session::verified(conn, db, s, patient, "code", now).await,
        _ => session::wrong(conn, db, s, row, now).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_stored_as_salted_hashes() {
        assert_ne!(hash("a", "123456"), hash("b", "123456"));
        assert_eq!(hash("a", "123456").len(), 64);
    }
}
