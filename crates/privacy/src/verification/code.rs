//! Verification by a one-time code sent to the phone or e-mail already on the record: 「コード」
//! asks for the card number (step `awaiting_code` with no card yet), a code goes to a contact on
//! that record which the sender can reach, and the patient types it back. The replies and the
//! stored state are the same whether or not the card number has a record or a contact, so the
//! dialogue never tells if a card exists (only a failed send is reported, so the patient can
//! fall back to the birth date). Senders: [`NoCodeChannel`] (none configured),
//! [`super::email::EmailCodeSender`], and a text message through the clinic's SMS channel
//! (`tsunagu::sms_codes`, which needs the outbox), combined by [`PhoneThenEmail`].
use anyhow::Context;
use rand::Rng;
use sha2::{Digest, Sha256};
use sqlx::AnyConnection;
use tsunagu_core::ClinicId;
use tsunagu_store::Db;

use super::normalize;
use super::session::{self, locked, set_step, Answer, SessionRow, Started, Subject};

/// How long a code is good for.
pub const CODE_TTL_MS: i64 = 10 * 60_000;

/// Where a code goes: a contact already on the record, never one the patient types.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    Phone(String),
    Email(String),
}

/// Which kinds of contact a clinic's codes can go to right now.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Reach {
    pub phone: bool,
    pub email: bool,
}

impl Reach {
    pub fn any(self) -> bool {
        self.phone || self.email
    }

    pub fn covers(self, to: &Target) -> bool {
        match to {
            Target::Phone(_) => self.phone,
            Target::Email(_) => self.email,
        }
    }
}

#[async_trait::async_trait]
pub trait CodeSender: Send + Sync {
    /// What this clinic's codes can reach (asked before the card number is looked up, so the
    /// answer reveals nothing about the records). Asynchronous: an SMS channel is the clinic's.
    async fn reach(&self, clinic: &ClinicId) -> Reach;
    /// Whether this clinic can send codes at all.
    async fn available(&self, clinic: &ClinicId) -> bool {
        self.reach(clinic).await.any()
    }
    /// Sends `code` to `to`, a contact on the record of `patient_id`.
    async fn send(
        &self,
        clinic: &ClinicId,
        patient_id: &str,
        to: &Target,
        code: &str,
    ) -> anyhow::Result<()>;
}

/// No SMTP configured and no SMS channel: codes cannot be sent.
pub struct NoCodeChannel;

#[async_trait::async_trait]
impl CodeSender for NoCodeChannel {
    async fn reach(&self, _: &ClinicId) -> Reach {
        Reach::default()
    }
    async fn send(&self, _: &ClinicId, _: &str, _: &Target, _: &str) -> anyhow::Result<()> {
        anyhow::bail!("no channel can send verification codes")
    }
}

/// A text message to the phone on file when the clinic can send one, else e-mail: each code
/// goes through the first sender that reaches the chosen contact.
pub struct PhoneThenEmail {
    pub phone: std::sync::Arc<dyn CodeSender>,
    pub email: std::sync::Arc<dyn CodeSender>,
}

#[async_trait::async_trait]
impl CodeSender for PhoneThenEmail {
    async fn reach(&self, clinic: &ClinicId) -> Reach {
        let (p, e) = (
            self.phone.reach(clinic).await,
            self.email.reach(clinic).await,
        );
        Reach {
            phone: p.phone || e.phone,
            email: p.email || e.email,
        }
    }
    async fn send(
        &self,
        clinic: &ClinicId,
        patient_id: &str,
        to: &Target,
        code: &str,
    ) -> anyhow::Result<()> {
        let via = if self.phone.reach(clinic).await.covers(to) {
            &self.phone
        } else {
            &self.email
        };
        via.send(clinic, patient_id, to, code).await
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
    /// "If the card number is on file with a contact, a code was sent" — the same either way.
    Requested,
    /// The send failed; the dialogue now waits for the birth date instead.
    SendFailed,
}

fn hash(session_id: &str, code: &str) -> String {
    hex::encode(Sha256::digest(format!("{session_id}:{code}").as_bytes()))
}

/// 「コード」: asks for the card number, unless already verified or locked.
pub async fn begin(db: &Db, s: &Subject<'_>, now: i64) -> anyhow::Result<Started> {
    session::start_at(db, s, "awaiting_code", now).await
}

/// The patient's text while the code dialogue waits for the card number; None when it does not.
/// The code is sent after the transaction commits, so a slow server holds no lock.
pub async fn on_card(
    db: &Db,
    s: &Subject<'_>,
    card_text: &str,
    sender: &dyn CodeSender,
    now: i64,
) -> anyhow::Result<Option<CodeRequest>> {
    let mut tx = db.begin().await?;
    let Some(row) = session::load(tx.conn(), s.identity_id).await? else {
        return Ok(None);
    };
    let waiting = row.step == "awaiting_code" && row.card_number.is_none();
    if !waiting || row.expires_at.is_none_or(|e| e <= now) {
        return Ok(None);
    }
    if let Some(until) = locked(&row, now) {
        return Ok(Some(CodeRequest::Locked { until }));
    }
    let reach = sender.reach(s.clinic).await;
    if !reach.any() {
        return Ok(Some(CodeRequest::Unavailable));
    }
    let Some(card) = normalize::card_number(card_text) else {
        return Ok(Some(CodeRequest::InvalidCard));
    };
    let rec: Option<(String, Option<String>, Option<String>)> = sqlx::query_as(
        "SELECT id, phone, email FROM patients WHERE clinic_id = $1 AND card_number = $2 AND provisional = 0",
    )
    .bind(s.clinic.as_str())
    .bind(&card)
    .fetch_optional(tx.conn())
    .await
    .context("finding the record for a code")?;
    let target = rec.and_then(|(id, phone, email)| {
        [phone.map(Target::Phone), email.map(Target::Email)]
            .into_iter()
            .flatten()
            .find(|t| reach.covers(t))
            .map(|t| (id, t))
    });
    let code = format!("{:06}", rand::thread_rng().gen_range(0..1_000_000));
    // The same row whether or not a code goes out: a made-up card then fails like a wrong code.
    sqlx::query(
        "UPDATE verification_sessions SET card_number = $1, code_hash = $2, code_expires_at = $3, code_attempts = 0,
           code_patient_id = $4, expires_at = $3, updated_at = $5 WHERE id = $6",
    )
    .bind(&card)
    .bind(target.as_ref().map(|_| hash(&row.id, &code)))
    .bind(now + CODE_TTL_MS)
    .bind(target.as_ref().map(|(patient, _)| patient.as_str()))
    .bind(now)
    .bind(&row.id)
    .execute(tx.conn())
    .await
    .context("storing the code's hash")?;
    tx.commit().await.context("requesting a code")?;
    let Some((patient, target)) = target else {
        return Ok(Some(CodeRequest::Requested));
    };
    if let Err(e) = sender.send(s.clinic, &patient, &target, &code).await {
        // Staff logs get the reason, never the address or the code.
        tracing::warn!(clinic = s.clinic.as_str(), identity = s.identity_id, error = %e,
            "a verification code could not be sent; the patient was offered the birth date");
        sqlx::query(
            "UPDATE verification_sessions SET step = 'awaiting_birth_date', code_hash = NULL, code_expires_at = NULL,
               code_patient_id = NULL, updated_at = $1 WHERE id = $2 AND step = 'awaiting_code'",
        )
        .bind(now)
        .bind(&row.id)
        .execute(db.pool())
        .await
        .context("falling back to the birth date")?;
        return Ok(Some(CodeRequest::SendFailed));
    }
    Ok(Some(CodeRequest::Requested))
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
        _ => session::wrong(conn, db, s, row, true, now).await,
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
