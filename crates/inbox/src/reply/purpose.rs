//! Messages the clinic starts for a purpose: the channel is chosen here, the ledger decides.
use anyhow::Context;
use sqlx::AnyConnection;
use tsunagu_core::{ChannelId, ClinicId, Code, PatientId, Refusal};
use tsunagu_privacy::consent::{Purpose, SendBasis};
use tsunagu_store::conversations::{self, NewConversation};
use tsunagu_store::{channels, patients, Db};

use super::content::Outgoing;
use super::queue::{checked_text, queue_in, text_refusal};
use super::{Author, ReplyOutcome};

/// Starts a message the clinic initiates for `purpose` (a staff message, an integration): on
/// `channel`, or the patient's preferred channel, or the most recent one they follow; in their
/// one-to-one conversation there (created if new), once `consent::may_send` finds a grant.
#[allow(clippy::too_many_arguments)]
pub async fn queue_for_purpose(
    db: &Db,
    clinic: &ClinicId,
    patient: &PatientId,
    channel: Option<&ChannelId>,
    purpose: Purpose,
    text: &str,
    author: Author<'_>,
    now_ms: i64,
) -> anyhow::Result<ReplyOutcome> {
    let Some(text) = checked_text(text) else {
        return Ok(ReplyOutcome::Refused(text_refusal(text)));
    };
    let content = Outgoing::text(text);
    queue_content_for_purpose(
        db, clinic, patient, channel, purpose, content, author, now_ms,
    )
    .await
}

/// As [`queue_for_purpose`], for prepared content (a WhatsApp template, media): the one way to
/// reach a WhatsApp patient for a purpose outside the 24-hour window.
#[allow(clippy::too_many_arguments)]
pub async fn queue_content_for_purpose(
    db: &Db,
    clinic: &ClinicId,
    patient: &PatientId,
    channel: Option<&ChannelId>,
    purpose: Purpose,
    content: Outgoing,
    author: Author<'_>,
    now_ms: i64,
) -> anyhow::Result<ReplyOutcome> {
    let mut tx = db.begin().await?;
    let outcome = queue_content_for_purpose_in(
        &mut tx, clinic, patient, channel, purpose, content, author, now_ms,
    )
    .await?;
    if matches!(outcome, ReplyOutcome::Queued(_)) {
        tx.commit().await?; // a refusal also rolls back a conversation created for it
    }
    Ok(outcome)
}

/// As [`queue_content_for_purpose`], inside the caller's transaction (a drip step claims its
/// step and schedules the next in the same one). A refusal may leave a created conversation in
/// the transaction: the caller drops it.
#[allow(clippy::too_many_arguments)]
pub async fn queue_content_for_purpose_in(
    tx: &mut tsunagu_store::Tx,
    clinic: &ClinicId,
    patient: &PatientId,
    channel: Option<&ChannelId>,
    purpose: Purpose,
    content: Outgoing,
    author: Author<'_>,
    now_ms: i64,
) -> anyhow::Result<ReplyOutcome> {
    let ident = match pick_identity(tx.conn(), clinic, patient, channel).await? {
        Ok(i) => i,
        Err(refused) => return Ok(ReplyOutcome::Refused(refused)),
    };
    let channel_id = ChannelId::from_db(ident.channel_id.clone());
    let new = NewConversation {
        clinic_id: clinic,
        channel_id: &channel_id,
        kind: "direct",
        thread_key: &ident.external_id,
        patient_id: Some(&ident.patient_id),
        channel_identity_id: Some(&ident.id),
        title: None,
    };
    let conversation = conversations::find_or_create(tx.conn(), new, now_ms).await?;
    let basis = SendBasis::Purpose(purpose);
    queue_in(tx, clinic, &conversation, author, content, basis, now_ms).await
}

/// The kind of channel (`line`, `sms`, …) the clinic should reach the patient on first.
async fn preferred_kind(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    patient: &PatientId,
) -> anyhow::Result<Option<String>> {
    let kind: Option<Option<String>> = sqlx::query_scalar(
        "SELECT preferred_channel FROM patients WHERE id = $1 AND clinic_id = $2",
    )
    .bind(patient.as_str())
    .bind(clinic.as_str())
    .fetch_optional(conn)
    .await
    .context("reading the patient's preferred channel")?;
    Ok(kind.flatten())
}

async fn pick_identity(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    patient: &PatientId,
    channel: Option<&ChannelId>,
) -> anyhow::Result<Result<patients::Identity, Refusal>> {
    let mut all = patients::identities_of(&mut *conn, clinic, patient).await?;
    if let Some(ch) = channel {
        all.retain(|i| i.channel_id == ch.as_str());
        if !all.is_empty() && all.iter().all(|i| i.follow_state == "blocked") {
            let why = "the patient has blocked this account";
            return Ok(Err(Refusal::new(Code::RecipientBlocked).detail(why)));
        }
    }
    all.retain(|i| i.follow_state != "blocked");
    let preferred = preferred_kind(&mut *conn, clinic, patient).await?;
    let kinds: std::collections::HashMap<String, String> = channels::list(conn, clinic)
        .await?
        .into_iter()
        .map(|c| (c.id, c.kind))
        .collect();
    // Preferred channel first, then those the patient follows, then the most recently active.
    all.sort_by_key(|i| {
        let pref = preferred.is_some() && kinds.get(&i.channel_id) == preferred.as_ref();
        (
            std::cmp::Reverse(pref),
            std::cmp::Reverse(i.follow_state == "following"),
            std::cmp::Reverse(i.updated_at),
        )
    });
    let none = || {
        let why = "the patient has no channel to reach them on";
        Refusal::new(Code::NoReachableChannel).detail(why)
    };
    Ok(all.into_iter().next().ok_or_else(none))
}
