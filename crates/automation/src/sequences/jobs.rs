//! The sequence jobs. `sequence.step` re-checks everything at send time (still active, sequence
//! on, goal not reached), then in one transaction claims the step, queues the message for the
//! sequence's purpose through the outbox (consent and reachability checked there), leaves a line
//! on the conversation and queues the next step: a retry or a second worker finds the step
//! claimed and sends nothing. A refusal stops the enrollment with its reason.
//! `sequence.trigger` enrolls on a tag added or a field set, and stops at a goal tag.
use tsunagu_calendar::Schedule;
use tsunagu_core::jobs::{SequenceStep as StepJob, SequenceTrigger};
use tsunagu_core::{ClinicId, ConversationId, PatientId};
use tsunagu_inbox::reply::{self, Author, Outgoing, ReplyOutcome};
use tsunagu_outbox::worker::Outcome;
use tsunagu_outbox::{JobHandler, Worker};
use tsunagu_store::jobs::Job;
use tsunagu_store::{conversations, Db};

use super::enrollments::{self, Enrollment};
use super::timing::due_at;
use super::{store, Sequence, StopReason, Trigger};
use crate::away;
use crate::lines::{self, Why};

/// `sequence.step`, registered with the worker by the binary.
pub struct Step;

/// `sequence.trigger`, registered with the worker by the binary.
pub struct Triggered;

async fn schedule(db: &Db, clinic: &ClinicId) -> anyhow::Result<Option<Schedule>> {
    let mut conn = db.pool().acquire().await?;
    away::schedule(&mut conn, clinic).await
}

#[async_trait::async_trait]
impl JobHandler for Step {
    type Job = StepJob;

    async fn run(&self, w: &Worker, _: &Job, p: StepJob) -> anyhow::Result<Outcome> {
        let now = w.clock.now_ms();
        let clinic = &p.clinic_id;
        let mut conn = w.db.pool().acquire().await?;
        let Some(e) = enrollments::get(&mut conn, clinic, &p.enrollment_id).await? else {
            return Ok(Outcome::Done);
        };
        if e.state != "active" || e.next_step != p.position {
            return Ok(Outcome::Done); // sent already, or stopped meanwhile
        }
        let Some(seq) = store::get(&mut conn, clinic, &e.sequence_id).await? else {
            return Ok(Outcome::Done);
        };
        if !seq.enabled {
            let r = StopReason::SequenceDisabled;
            enrollments::stop(&mut conn, clinic, &e.id, r, now).await?;
            return Ok(Outcome::Done);
        }
        if let Some(goal) = &seq.goal_tag {
            if enrollments::has_tag(&mut conn, clinic, &e.patient_id, goal).await? {
                enrollments::stop(&mut conn, clinic, &e.id, StopReason::Goal, now).await?;
                return Ok(Outcome::Done);
            }
        }
        drop(conn);
        let Some(schedule) = schedule(&w.db, clinic).await? else {
            return Ok(Outcome::Done);
        };
        send_step(&w.db, clinic, &seq, &e, &schedule, now).await?;
        Ok(Outcome::Done)
    }
}

/// Claims step `e.next_step`, queues it and the next one, all or nothing.
async fn send_step(
    db: &Db,
    clinic: &ClinicId,
    seq: &Sequence,
    e: &Enrollment,
    schedule: &Schedule,
    now: i64,
) -> anyhow::Result<()> {
    let pos = e.next_step;
    let mut tx = db.begin().await?;
    let Some(step) = usize::try_from(pos).ok().and_then(|i| seq.steps.get(i)) else {
        // The sequence lost steps since: nothing is left to send.
        complete(tx.conn(), clinic, e, now).await?;
        tx.commit().await?;
        return Ok(());
    };
    let next = seq.steps.get(pos as usize + 1);
    let next_due = next.map(|n| due_at(&n.timing, e.enrolled_at, Some(now), schedule));
    let claimed = sqlx::query(
        "UPDATE sequence_enrollments SET next_step = $3, due_at = $4, last_sent_at = $5, updated_at = $5,
         state = CASE WHEN $4 IS NULL THEN 'completed' ELSE 'active' END
         WHERE id = $1 AND clinic_id = $2 AND state = 'active' AND next_step = $6",
    )
    .bind(&e.id)
    .bind(clinic.as_str())
    .bind(pos + 1)
    .bind(next_due)
    .bind(now)
    .bind(pos)
    .execute(tx.conn())
    .await?;
    if claimed.rows_affected() == 0 {
        return Ok(()); // another worker has it
    }
    let patient = PatientId::from_db(e.patient_id.clone());
    let channel = e.channel_id.clone().map(tsunagu_core::ChannelId::from_db);
    let outcome = reply::queue_content_for_purpose_in(
        &mut tx,
        clinic,
        &patient,
        channel.as_ref(),
        seq.purpose,
        Outgoing::text(&step.body),
        Author::Automation,
        now,
    )
    .await?;
    let msg = match outcome {
        ReplyOutcome::Queued(m) => m,
        ReplyOutcome::Refused(r) => {
            drop(tx); // nothing of the step is kept
            let reason = StopReason::from_refusal(r.code);
            tracing::info!(enrollment = %e.id, code = r.code.as_str(), "a sequence step was refused; the enrollment stops");
            let mut conn = db.pool().acquire().await?;
            enrollments::stop(&mut conn, clinic, &e.id, reason, now).await?;
            return Ok(());
        }
    };
    let conv_id = ConversationId::from_db(msg.conversation_id.clone());
    if let Some(conv) = conversations::by_id(tx.conn(), clinic, &conv_id).await? {
        let why = Why::Sequence {
            name: &seq.name,
            step: pos + 1,
        };
        lines::record(tx.conn(), clinic, &conv, why, now).await?;
    }
    if let Some(at) = next_due {
        enrollments::queue_step(tx.conn(), clinic, &e.id, pos + 1, at, now).await?;
    }
    tx.commit().await?;
    Ok(())
}

async fn complete(
    conn: &mut sqlx::AnyConnection,
    clinic: &ClinicId,
    e: &Enrollment,
    now: i64,
) -> anyhow::Result<()> {
    sqlx::query(
        "UPDATE sequence_enrollments SET state = 'completed', due_at = NULL, updated_at = $3
         WHERE id = $1 AND clinic_id = $2 AND state = 'active'",
    )
    .bind(&e.id)
    .bind(clinic.as_str())
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// Enrolls the patient in every enabled sequence `matches` accepts. Returns how many.
async fn enroll_where(
    db: &Db,
    clinic: &ClinicId,
    kind: &str,
    patient: &str,
    channel: Option<&str>,
    now: i64,
    matches: impl Fn(&Trigger) -> bool,
) -> anyhow::Result<usize> {
    let Some(schedule) = schedule(db, clinic).await? else {
        return Ok(0);
    };
    let mut tx = db.begin().await?;
    let mut n = 0;
    for seq in store::enabled_with(tx.conn(), clinic, kind).await? {
        if !matches(&seq.trigger) {
            continue;
        }
        if enrollments::enroll(tx.conn(), clinic, &seq, patient, channel, &schedule, now)
            .await?
            .is_some()
        {
            n += 1;
        }
    }
    tx.commit().await?;
    Ok(n)
}

/// Friend-add (LINE follow or unblock) on `channel`: enrolls the patient in the sequences it
/// starts; their steps go on that channel. Called by the dispatcher with the follow event.
pub async fn on_friend_added(
    db: &Db,
    clinic: &ClinicId,
    patient: &str,
    channel: &str,
    now: i64,
) -> anyhow::Result<usize> {
    enroll_where(
        db,
        clinic,
        "friend_added",
        patient,
        Some(channel),
        now,
        |t| matches!(t, Trigger::FriendAdded { channel_id } if channel_id.as_deref().is_none_or(|c| c == channel)),
    )
    .await
}

#[async_trait::async_trait]
impl JobHandler for Triggered {
    type Job = SequenceTrigger;

    async fn run(&self, w: &Worker, _: &Job, p: SequenceTrigger) -> anyhow::Result<Outcome> {
        let now = w.clock.now_ms();
        let clinic = &p.clinic_id;
        if !p.tags_added.is_empty() {
            let mut conn = w.db.pool().acquire().await?;
            enrollments::stop_at_goal(&mut conn, clinic, &p.patient_id, &p.tags_added, now).await?;
            drop(conn);
            let tags = &p.tags_added;
            enroll_where(
                &w.db,
                clinic,
                "tag_added",
                &p.patient_id,
                None,
                now,
                |t| matches!(t, Trigger::TagAdded { tag } if tags.contains(tag)),
            )
            .await?;
        }
        if !p.fields_set.is_empty() {
            let set = &p.fields_set;
            enroll_where(&w.db, clinic, "field_set", &p.patient_id, None, now, |t| {
                matches!(t, Trigger::FieldSet { field_id, value }
                    if set.iter().any(|(f, v)| f == field_id && v == value))
            })
            .await?;
        }
        Ok(Outcome::Done)
    }
}
