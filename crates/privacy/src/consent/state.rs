//! The current state: the latest row per (purpose, channel), a channel's own row beating the
//! all-channels row, and the implicit `care` of a patient who wrote to the clinic.
use anyhow::Context;
use serde::Serialize;
use sqlx::AnyConnection;
use tsunagu_core::{ClinicId, PatientId};
use tsunagu_store::patients;

use super::{history, ConsentEvent, Purpose};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Granted,
    Withdrawn,
    /// `care` only: the patient wrote to the clinic on this channel and has not withdrawn it.
    Implicit,
    /// Nothing on record: not granted.
    Unset,
}

impl Status {
    pub fn allows(self) -> bool {
        matches!(self, Status::Granted | Status::Implicit)
    }
}

/// The state of one purpose on one channel (or on every channel, `channel_id` None).
#[derive(Clone, Debug, Serialize)]
pub struct ConsentState {
    pub purpose: Purpose,
    pub channel_id: Option<String>,
    pub status: Status,
    /// The row that decides it (None for implicit and unset).
    pub decided_by: Option<ConsentEvent>,
    /// Decided by the all-channels row rather than the channel's own.
    pub inherited: bool,
}

/// Resolves one purpose on one channel from the patient's history (oldest first). `wrote` says
/// whether the patient has written to the clinic on this channel.
pub fn resolve(
    history: &[ConsentEvent],
    purpose: Purpose,
    channel: Option<&str>,
    wrote: bool,
) -> ConsentState {
    let latest = |ch: Option<&str>| {
        history
            .iter()
            .rev()
            .find(|e| e.purpose == purpose.code() && e.channel_id.as_deref() == ch)
    };
    let own = channel.and_then(|c| latest(Some(c)));
    let (row, inherited) = match own {
        Some(r) => (Some(r), false),
        None => (latest(None), channel.is_some()),
    };
    // Care is implied by the patient's own first message: someone who wrote to the clinic about
    // their care expects to hear back about it there. An explicit withdrawal still wins.
    let status = match row {
        Some(r) if r.granted != 0 => Status::Granted,
        Some(_) => Status::Withdrawn,
        None if purpose == Purpose::Care && wrote => Status::Implicit,
        None => Status::Unset,
    };
    ConsentState {
        purpose,
        channel_id: channel.map(str::to_string),
        status,
        decided_by: row.cloned(),
        inherited,
    }
}

/// Every purpose for every channel: the all-channels rows, then each channel the patient is
/// on or that the ledger names.
pub async fn current(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    patient: &PatientId,
) -> anyhow::Result<Vec<ConsentState>> {
    let events = history(&mut *conn, clinic, patient).await?;
    let mut chans: Vec<String> = patients::identities_of(&mut *conn, clinic, patient)
        .await?
        .into_iter()
        .map(|i| i.channel_id)
        .collect();
    chans.extend(events.iter().filter_map(|e| e.channel_id.clone()));
    chans.sort();
    chans.dedup();
    let mut out: Vec<ConsentState> = Purpose::ALL
        .iter()
        .map(|p| resolve(&events, *p, None, false))
        .collect();
    for ch in &chans {
        let wrote = last_actions(&mut *conn, clinic, patient, ch)
            .await?
            .1
            .is_some();
        out.extend(
            Purpose::ALL
                .iter()
                .map(|p| resolve(&events, *p, Some(ch), wrote)),
        );
    }
    Ok(out)
}

/// When the patient last acted on this channel (a message, a button, a friend-add) and last
/// wrote (inbound messages only), across their conversations there, groups included.
pub(super) async fn last_actions(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    patient: &PatientId,
    channel: &str,
) -> anyhow::Result<(Option<i64>, Option<i64>)> {
    sqlx::query_as(
        "SELECT MAX(m.created_at), MAX(CASE WHEN m.direction = 'in' THEN m.created_at END) FROM messages m
         WHERE m.clinic_id = $1 AND m.channel_id = $2
           AND (m.direction = 'in' OR (m.direction = 'system' AND m.body IN ('followed', 'unblocked')))
           AND (m.conversation_id IN (SELECT id FROM conversations WHERE clinic_id = $1 AND channel_id = $2 AND patient_id = $3)
             OR m.sender_identity_id IN (SELECT id FROM channel_identities WHERE clinic_id = $1 AND channel_id = $2 AND patient_id = $3))",
    )
    .bind(clinic.as_str())
    .bind(channel)
    .bind(patient.as_str())
    .fetch_one(conn)
    .await
    .context("finding the patient's last action on the channel")
}
