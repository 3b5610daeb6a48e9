//! The chat dialogue: 本人確認 → card number → birth date → linked, or after three wrong
//! answers locked for a day with a note for staff. A wrong answer never says which part was
//! wrong. The state is one row per identity (`verification_sessions`).
use anyhow::Context;
use sqlx::{AnyConnection, FromRow};
use tsunagu_core::{new_id, ChannelId, ClinicId, ConversationId};
use tsunagu_store::conversations::{self, NewMessage};
use tsunagu_store::Db;

use super::link::{self, LinkActor, LinkSpec};
use super::{normalize, ANSWER_TTL_MS, LOCKED_NOTE, LOCK_MS, MAX_ATTEMPTS};
use crate::audit::{self, Actor, AuditEntry};

/// Who is answering, and where staff should read about it.
pub struct Subject<'a> {
    pub clinic: &'a ClinicId,
    pub identity_id: &'a str,
    pub conversation_id: &'a str,
    pub channel_id: &'a str,
}

#[derive(Clone, Debug, FromRow)]
pub struct SessionRow {
    pub id: String,
    pub step: String,
    pub card_number: Option<String>,
    pub failed_attempts: i64,
    pub locked_until: Option<i64>,
    pub expires_at: Option<i64>,
    pub code_hash: Option<String>,
    pub code_expires_at: Option<i64>,
    pub code_attempts: i64,
    pub code_patient_id: Option<String>,
}

const COLS: &str = "id, step, card_number, failed_attempts, locked_until, expires_at, code_hash, code_expires_at, code_attempts, code_patient_id";

#[derive(Debug, PartialEq, Eq)]
pub enum Started {
    AskCard,
    AlreadyVerified,
    Locked { until: i64 },
}

#[derive(Debug, PartialEq, Eq)]
pub enum Answer {
    /// No dialogue is waiting: the text is the inbox's.
    NotWaiting,
    AskBirthDate,
    /// The text is not a card number / date: asked again, not counted.
    InvalidCard,
    InvalidBirthDate,
    /// Not six digits; asked again, not counted.
    InvalidCode,
    /// The code ran out; the dialogue starts over.
    CodeExpired,
    /// Card and birth date do not name one record together; the dialogue starts over.
    Wrong {
        remaining: i64,
    },
    /// The code is wrong; it may be tried again until the attempts run out.
    WrongCode {
        remaining: i64,
    },
    /// This answer was the last allowed.
    LockedNow {
        until: i64,
    },
    Locked {
        until: i64,
    },
    Verified {
        link_id: String,
        patient_id: String,
    },
}

pub async fn load(
    conn: &mut AnyConnection,
    identity_id: &str,
) -> anyhow::Result<Option<SessionRow>> {
    sqlx::query_as(&format!(
        "SELECT {COLS} FROM verification_sessions WHERE identity_id = $1"
    ))
    .bind(identity_id)
    .fetch_optional(conn)
    .await
    .context("reading the verification session")
}

/// The lock in force, if any.
pub fn locked(s: &SessionRow, now: i64) -> Option<i64> {
    s.locked_until.filter(|u| *u > now)
}

/// Sets the dialogue's step, creating the row on first use. Failed attempts are kept (starting
/// over never clears them) unless the lock they led to has run out.
pub(crate) async fn set_step(
    conn: &mut AnyConnection,
    s: &Subject<'_>,
    step: &str,
    card: Option<&str>,
    now: i64,
) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO verification_sessions (id, clinic_id, identity_id, step, card_number, expires_at, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $7)
         ON CONFLICT (identity_id) DO UPDATE SET step = $4, card_number = $5, expires_at = $6, updated_at = $7,
           code_hash = NULL, code_expires_at = NULL, code_patient_id = NULL,
           failed_attempts = CASE WHEN verification_sessions.locked_until IS NOT NULL
             AND verification_sessions.locked_until <= $7 THEN 0 ELSE verification_sessions.failed_attempts END,
           locked_until = CASE WHEN verification_sessions.locked_until <= $7 THEN NULL
             ELSE verification_sessions.locked_until END",
    )
    .bind(new_id())
    .bind(s.clinic.as_str())
    .bind(s.identity_id)
    .bind(step)
    .bind(card)
    .bind((step != "idle").then_some(now + ANSWER_TTL_MS))
    .bind(now)
    .execute(conn)
    .await
    .context("storing the verification step")?;
    Ok(())
}

/// 本人確認: asks for the card number, unless already verified or locked.
pub async fn start(db: &Db, s: &Subject<'_>, now: i64) -> anyhow::Result<Started> {
    start_at(db, s, "awaiting_card", now).await
}

/// Starts a dialogue whose first question is the card number (`awaiting_card` for the birth
/// date, `awaiting_code` for a code).
pub(crate) async fn start_at(
    db: &Db,
    s: &Subject<'_>,
    step: &str,
    now: i64,
) -> anyhow::Result<Started> {
    let mut tx = db.begin().await?;
    let verified: Option<i64> = sqlx::query_scalar(
        "SELECT verified FROM channel_identities WHERE id = $1 AND clinic_id = $2",
    )
    .bind(s.identity_id)
    .bind(s.clinic.as_str())
    .fetch_optional(tx.conn())
    .await
    .context("reading the identity's verified state")?;
    if verified.unwrap_or(0) != 0 {
        return Ok(Started::AlreadyVerified);
    }
    if let Some(until) = load(tx.conn(), s.identity_id)
        .await?
        .and_then(|r| locked(&r, now))
    {
        return Ok(Started::Locked { until });
    }
    set_step(tx.conn(), s, step, None, now).await?;
    tx.commit().await?;
    Ok(Started::AskCard)
}

/// The patient's next text while the dialogue waits for it.
pub async fn on_answer(db: &Db, s: &Subject<'_>, text: &str, now: i64) -> anyhow::Result<Answer> {
    let mut tx = db.begin().await?;
    let Some(row) = load(tx.conn(), s.identity_id).await? else {
        return Ok(Answer::NotWaiting);
    };
    if let Some(until) = locked(&row, now) {
        return Ok(if row.step == "idle" {
            Answer::NotWaiting
        } else {
            Answer::Locked { until }
        });
    }
    if row.expires_at.is_none_or(|e| e <= now) {
        return Ok(Answer::NotWaiting);
    }
    let answer = match row.step.as_str() {
        "awaiting_card" => match normalize::card_number(text) {
            Some(card) => {
                set_step(tx.conn(), s, "awaiting_birth_date", Some(&card), now).await?;
                Answer::AskBirthDate
            }
            None => Answer::InvalidCard,
        },
        "awaiting_birth_date" => match normalize::birth_date(text) {
            None => Answer::InvalidBirthDate,
            Some(date) => {
                let card = row.card_number.clone().unwrap_or_default();
                let found: Vec<(String,)> = sqlx::query_as(
                    "SELECT id FROM patients WHERE clinic_id = $1 AND card_number = $2 AND birth_date = $3",
                )
                .bind(s.clinic.as_str())
                .bind(&card)
                .bind(&date)
                .fetch_all(tx.conn())
                .await
                .context("matching the card number and birth date")?;
                match found.as_slice() {
                    [(patient_id,)] => verified(tx.conn(), db, s, patient_id, "chat", now).await?,
                    _ => wrong(tx.conn(), db, s, &row, false, now).await?,
                }
            }
        },
        "awaiting_code" => super::code::check(tx.conn(), db, s, &row, text, now).await?,
        _ => Answer::NotWaiting,
    };
    tx.commit()
        .await
        .context("recording the verification answer")?;
    Ok(answer)
}

pub(crate) async fn verified(
    conn: &mut AnyConnection,
    db: &Db,
    s: &Subject<'_>,
    patient_id: &str,
    how: &'static str,
    now: i64,
) -> anyhow::Result<Answer> {
    let spec = LinkSpec {
        clinic: s.clinic,
        identity_id: s.identity_id,
        to_patient: patient_id,
        how,
        reason: None,
        actor: LinkActor::Patient,
        source_ip: None,
    };
    let link_id = link::link_in(conn, db.backend(), spec, now)
        .await?
        .map_err(|e| anyhow::anyhow!("linking after verification: {}", e.code))?;
    Ok(Answer::Verified {
        link_id,
        patient_id: patient_id.to_string(),
    })
}

/// A wrong answer: counted, audited; the last allowed one locks and tells staff. A wrong code
/// (`code`) leaves the code waiting for another try; a wrong birth date starts over.
pub(crate) async fn wrong(
    conn: &mut AnyConnection,
    db: &Db,
    s: &Subject<'_>,
    row: &SessionRow,
    code: bool,
    now: i64,
) -> anyhow::Result<Answer> {
    let failed = row.failed_attempts + 1;
    let lock = (failed >= MAX_ATTEMPTS).then_some(now + LOCK_MS);
    let keep_code = code && lock.is_none();
    let (step, expires) = match (lock, keep_code) {
        (Some(_), _) => ("idle", None),
        (None, true) => ("awaiting_code", row.expires_at),
        (None, false) => ("awaiting_card", Some(now + ANSWER_TTL_MS)),
    };
    sqlx::query(
        "UPDATE verification_sessions SET failed_attempts = $1, locked_until = $2, step = $3,
           card_number = CASE WHEN $7 = 1 THEN card_number ELSE NULL END,
           code_hash = CASE WHEN $7 = 1 THEN code_hash ELSE NULL END, expires_at = $4, updated_at = $5 WHERE id = $6",
    )
    .bind(failed)
    .bind(lock)
    .bind(step)
    .bind(expires)
    .bind(now)
    .bind(&row.id)
    .bind(i64::from(keep_code))
    .execute(&mut *conn)
    .await
    .context("counting a failed verification")?;
    let action = if lock.is_some() {
        "identity.verification_locked"
    } else {
        "identity.verification_failed"
    };
    let entry = AuditEntry {
        clinic_id: Some(s.clinic),
        actor: &Actor::System,
        action,
        subject_type: Some("channel_identity"),
        subject_ids: &[s.identity_id],
        source_ip: None,
    };
    audit::record(conn, db.backend(), entry, now).await?;
    let remaining = MAX_ATTEMPTS - failed;
    let Some(until) = lock else {
        return Ok(if keep_code {
            Answer::WrongCode { remaining }
        } else {
            Answer::Wrong { remaining }
        });
    };
    note_for_staff(conn, s, LOCKED_NOTE, now).await?;
    Ok(Answer::LockedNow { until })
}

/// A system line in the conversation, and the conversation raised for staff.
async fn note_for_staff(
    conn: &mut AnyConnection,
    s: &Subject<'_>,
    text: &str,
    now: i64,
) -> anyhow::Result<()> {
    let conv = ConversationId::from_db(s.conversation_id.to_string());
    let channel = ChannelId::from_db(s.channel_id.to_string());
    conversations::insert_message(
        &mut *conn,
        NewMessage {
            clinic_id: s.clinic,
            conversation_id: &conv,
            channel_id: &channel,
            direction: "system",
            kind: "system",
            body: Some(text),
            payload: r#"{"event":"verification_locked"}"#,
            sender_identity_id: None,
            author_kind: "system",
            author_staff_id: None,
            provider_message_id: None,
            status: "received",
            at_ms: now,
        },
    )
    .await?;
    sqlx::query("UPDATE conversations SET priority = CASE WHEN priority < 1 THEN 1 ELSE priority END, unread_count = unread_count + 1, status = 'open' WHERE id = $1")
        .bind(s.conversation_id)
        .execute(conn)
        .await
        .context("raising the conversation for staff")?;
    Ok(())
}

/// Staff lift a lock on one of the patient's identities (audited); the count starts again.
/// False when that identity of this patient had no lock.
pub async fn unlock(
    db: &Db,
    clinic: &ClinicId,
    patient_id: &str,
    identity_id: &str,
    actor: &Actor,
    ip: Option<&str>,
    now: i64,
) -> anyhow::Result<bool> {
    let mut tx = db.begin().await?;
    let done = sqlx::query(
        "UPDATE verification_sessions SET locked_until = NULL, failed_attempts = 0, step = 'idle', updated_at = $1
         WHERE identity_id = $2 AND clinic_id = $3 AND locked_until IS NOT NULL
           AND identity_id IN (SELECT id FROM channel_identities WHERE clinic_id = $3 AND patient_id = $4)",
    )
    .bind(now)
    .bind(identity_id)
    .bind(clinic.as_str())
    .bind(patient_id)
    .execute(tx.conn())
    .await
    .context("unlocking verification")?
    .rows_affected();
    if done == 0 {
        return Ok(false);
    }
    let entry = AuditEntry {
        clinic_id: Some(clinic),
        actor,
        action: "identity.verification_unlocked",
        subject_type: Some("channel_identity"),
        subject_ids: &[identity_id],
        source_ip: ip,
    };
    audit::record(tx.conn(), db.backend(), entry, now).await?;
    tx.commit().await?;
    Ok(true)
}

/// 中止 while the dialogue waits: it stops (failed attempts are kept). False when nothing waited.
pub async fn cancel(db: &Db, s: &Subject<'_>, now: i64) -> anyhow::Result<bool> {
    let done = sqlx::query(
        "UPDATE verification_sessions SET step = 'idle', card_number = NULL, code_hash = NULL, expires_at = NULL, updated_at = $1
         WHERE identity_id = $2 AND step <> 'idle' AND expires_at > $1",
    )
    .bind(now)
    .bind(s.identity_id)
    .execute(db.pool())
    .await
    .context("cancelling the verification dialogue")?
    .rows_affected();
    Ok(done > 0)
}
