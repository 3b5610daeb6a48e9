//! Scheduled messages: staff write a reply, or a message for a consent purpose, to leave at a
//! clinic-local time. Until it leaves it is listed on the conversation, editable and
//! cancellable; when it is due, `send_due` queues it through the same checks as a reply sent
//! now (consent, reachability, the service window), and a refusal then stays on the
//! conversation with its code — never dropped. Each schedule or change of time queues one
//! `conversation.scheduled_send` job keyed by the row and its time, so a job left from an
//! earlier time finds nothing to do.
use tsunagu_core::jobs::ScheduledSend;
use tsunagu_core::{ClinicId, Code, ConversationId, Refusal};
use tsunagu_privacy::consent::Purpose;
use tsunagu_store::jobs::{self, Enqueue};
use tsunagu_store::Db;

use crate::reply::{checked_text, text_refusal};

mod rows;
mod send;

pub use rows::{find, list, Scheduled};
pub use send::{send_due, Sent};

/// How far ahead a message may be scheduled.
pub const MAX_AHEAD_MS: i64 = 366 * 24 * 3_600_000;

/// What staff asked for.
pub struct Draft<'a> {
    pub body: &'a str,
    /// `None`: a reply in the conversation.
    pub purpose: Option<Purpose>,
    pub send_at: i64,
}

fn check(d: &Draft<'_>, now_ms: i64) -> Result<String, Refusal> {
    let Some(body) = checked_text(d.body) else {
        return Err(text_refusal(d.body));
    };
    if d.send_at <= now_ms {
        return Err(Refusal::new(Code::ScheduledTimePast).detail("the time has passed"));
    }
    if d.send_at > now_ms + MAX_AHEAD_MS {
        return Err(Refusal::new(Code::ScheduledTooFar).detail("more than a year ahead"));
    }
    Ok(body.to_owned())
}

async fn enqueue(
    conn: &mut sqlx::AnyConnection,
    clinic: &ClinicId,
    id: &str,
    send_at: i64,
    now_ms: i64,
) -> anyhow::Result<()> {
    let job = ScheduledSend {
        clinic_id: clinic.clone(),
        scheduled_id: id.to_owned(),
        send_at,
    };
    let key = format!("scheduled:{id}:{send_at}");
    let at = Enqueue {
        clinic_id: Some(clinic),
        idempotency_key: &key,
        run_at: send_at,
    };
    jobs::enqueue(conn, &job, at, now_ms).await?;
    Ok(())
}

/// Schedules a message in the clinic's conversation; its id. `staff_id`: who wrote it (`None`:
/// an API token; it then leaves as the API's message).
pub async fn schedule(
    db: &Db,
    clinic: &ClinicId,
    conversation: &ConversationId,
    staff_id: Option<&str>,
    draft: Draft<'_>,
    now_ms: i64,
) -> anyhow::Result<Result<String, Refusal>> {
    let body = match check(&draft, now_ms) {
        Ok(b) => b,
        Err(r) => return Ok(Err(r)),
    };
    let mut tx = db.begin().await?;
    let id = rows::insert(
        tx.conn(),
        clinic,
        conversation,
        staff_id,
        &body,
        draft.purpose,
        draft.send_at,
        now_ms,
    )
    .await?;
    enqueue(tx.conn(), clinic, &id, draft.send_at, now_ms).await?;
    tx.commit().await?;
    Ok(Ok(id))
}

/// Changes the text, purpose and time of a message that has not left yet. Refused with
/// `scheduled_not_editable` once it left, was refused or cancelled; `Ok(None)`: no such message
/// in this conversation of the clinic.
pub async fn edit(
    db: &Db,
    clinic: &ClinicId,
    conversation: &ConversationId,
    id: &str,
    draft: Draft<'_>,
    now_ms: i64,
) -> anyhow::Result<Option<Result<(), Refusal>>> {
    let mut tx = db.begin().await?;
    let Some(row) = rows::find(tx.conn(), clinic, conversation, id).await? else {
        return Ok(None);
    };
    if row.state != "scheduled" {
        return Ok(Some(Err(not_editable())));
    }
    let body = match check(&draft, now_ms) {
        Ok(b) => b,
        Err(r) => return Ok(Some(Err(r))),
    };
    let changed =
        rows::update(tx.conn(), &row, &body, draft.purpose, draft.send_at, now_ms).await?;
    // It left meanwhile.
    if !changed {
        return Ok(Some(Err(not_editable())));
    }
    if draft.send_at != row.send_at {
        enqueue(tx.conn(), clinic, id, draft.send_at, now_ms).await?;
    }
    tx.commit().await?;
    Ok(Some(Ok(())))
}

/// Cancels a message that has not left yet (same answers as `edit`).
pub async fn cancel(
    db: &Db,
    clinic: &ClinicId,
    conversation: &ConversationId,
    id: &str,
    now_ms: i64,
) -> anyhow::Result<Option<Result<(), Refusal>>> {
    let mut conn = db.pool().acquire().await?;
    let Some(row) = rows::find(&mut conn, clinic, conversation, id).await? else {
        return Ok(None);
    };
    if !rows::cancel(&mut conn, &row, now_ms).await? {
        return Ok(Some(Err(not_editable())));
    }
    Ok(Some(Ok(())))
}

fn not_editable() -> Refusal {
    Refusal::new(Code::ScheduledNotEditable)
        .detail("it has already left, been refused or cancelled")
}
