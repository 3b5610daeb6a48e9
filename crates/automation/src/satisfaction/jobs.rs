//! `satisfaction.ask`: queued when a conversation is resolved. At run time it waits out the
//! delay (deferred, no attempt used), then re-checks everything: the survey is on, the
//! conversation is still resolved by that same resolve, its channel is one asked on, the
//! patient was not asked within the clinic's days. In one transaction it claims the survey
//! (the resolve's key: a retry asks nothing twice) and queues the question for purpose `care`
//! through the outbox, where consent, blocking and the channel's window are checked. A refusal
//! keeps nothing but the skipped survey with the refusal's code.
use tsunagu_core::jobs::SatisfactionAsk;
use tsunagu_core::{ChannelId, ClinicId, ConversationId};
use tsunagu_inbox::reply::{self, Author, Outgoing, ReplyOutcome};
use tsunagu_outbox::worker::Outcome;
use tsunagu_outbox::{JobHandler, Worker};
use tsunagu_privacy::consent::{Purpose, SendBasis};
use tsunagu_store::jobs::Job;
use tsunagu_store::{channels, clinics, conversations};

use super::surveys::{self, NewSurvey};
use super::{settings, ANSWERS};
use crate::lines::{self, Why};

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// `satisfaction.ask`, registered with the worker by the binary.
pub struct Ask;

/// The clinic-local month (YYYY-MM) of `at_ms`.
pub async fn month_of(
    conn: &mut sqlx::AnyConnection,
    clinic: &ClinicId,
    at_ms: i64,
) -> anyhow::Result<String> {
    let tz = clinics::by_id(conn, clinic)
        .await?
        .and_then(|c| c.timezone.parse::<chrono_tz::Tz>().ok())
        .unwrap_or(chrono_tz::Asia::Tokyo);
    let local = tsunagu_core::clock::from_ms(at_ms).with_timezone(&tz);
    Ok(local.format("%Y-%m").to_string())
}

#[async_trait::async_trait]
impl JobHandler for Ask {
    type Job = SatisfactionAsk;

    #[tracing::instrument(skip_all, fields(conversation = %p.conversation_id))]
    async fn run(&self, w: &Worker, _: &Job, p: SatisfactionAsk) -> anyhow::Result<Outcome> {
        let now = w.clock.now_ms();
        let clinic = &p.clinic_id;
        let mut conn = w.db.pool().acquire().await?;
        let settings = settings::load(&mut conn, clinic).await?;
        if !settings.enabled {
            return Ok(Outcome::Done);
        }
        let due = p.resolved_at + settings.delay_minutes * 60_000;
        if now < due {
            return Ok(Outcome::Defer { until_ms: due });
        }
        let conv_id = ConversationId::from_db(p.conversation_id.clone());
        let Some(conv) = conversations::by_id(&mut conn, clinic, &conv_id).await? else {
            return Ok(Outcome::Done);
        };
        // Reopened since, or resolved again (that resolve has its own job).
        if conv.status != "resolved" || conv.resolved_at != Some(p.resolved_at) {
            return Ok(Outcome::Done);
        }
        let Some(patient) = conv.patient_id.clone().filter(|_| conv.kind == "direct") else {
            return Ok(Outcome::Done);
        };
        let channel_id = ChannelId::from_db(conv.channel_id.clone());
        let Some(channel) = channels::by_id(&mut conn, clinic, &channel_id).await? else {
            return Ok(Outcome::Done);
        };
        if !settings.asks_on(&channel.kind) {
            return Ok(Outcome::Done);
        }
        let month = month_of(&mut conn, clinic, p.resolved_at).await?;
        let new = NewSurvey {
            conversation_id: &conv.id,
            patient_id: Some(&patient),
            channel_kind: &channel.kind,
            staff_id: conv.assignee_id.as_deref(),
            team_id: conv.team_id.as_deref(),
            resolved_at: p.resolved_at,
            month: &month,
        };
        let since = now - settings.min_days * DAY_MS;
        drop(conn);
        // The once-in-N-days check and the claim are one transaction, serialised per patient
        // (SQLite: one writer; PostgreSQL: a lock on the patient), so two conversations
        // resolved at once ask once.
        let mut tx = w.db.begin().await?;
        surveys::lock_patient(tx.conn(), &patient).await?;
        if settings.min_days > 0 && surveys::asked_since(tx.conn(), clinic, &patient, since).await?
        {
            surveys::skip(tx.conn(), clinic, &new, "asked_recently", now).await?;
            tx.commit().await?;
            return Ok(Outcome::Done);
        }
        if surveys::claim(tx.conn(), clinic, &new, now)
            .await?
            .is_none()
        {
            return Ok(Outcome::Done); // asked already (a retry, another worker)
        }
        let answers: Vec<String> = ANSWERS.iter().map(|a| a.to_string()).collect();
        let content = Outgoing::choice(&settings.question, &answers);
        let basis = SendBasis::Purpose(Purpose::Care);
        let outcome = reply::queue_in(
            &mut tx,
            clinic,
            &conv,
            Author::Automation,
            content,
            basis,
            now,
        )
        .await?;
        match outcome {
            ReplyOutcome::Queued(_) => {
                lines::record(tx.conn(), clinic, &conv, Why::SurveyAsked, now).await?;
                tx.commit().await?;
                (w.on_change)(clinic.as_str(), &conv.id);
            }
            ReplyOutcome::Refused(r) => {
                drop(tx); // nothing of the question is kept
                tracing::info!(
                    code = r.code.as_str(),
                    "the satisfaction survey was not sent"
                );
                let mut conn = w.db.pool().acquire().await?;
                surveys::skip(&mut conn, clinic, &new, r.code.as_str(), now).await?;
            }
        }
        Ok(Outcome::Done)
    }
}
