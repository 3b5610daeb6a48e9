//! `triage.escalate`: an urgent message's on-call alert, step by step (`safety::alerts`). Each
//! step tells its people — a live event (`oncall.alert`: the page asks `/app/oncall` for the
//! caller's own alerts, so the event names no one and carries no words) and an e-mail to their
//! own address when `[smtp]` is set (the clinic's name and a link, nothing the patient wrote) —
//! records who was told, audits it and queues the next step N minutes on. A step finds the
//! alert opened (someone opened the conversation) and stops. Staff records have no phone
//! number, so nobody is told by SMS.
use std::sync::Arc;

use tsunagu_core::jobs::TriageEscalate;
use tsunagu_core::{ClinicId, StaffId};
use tsunagu_inbox::{LiveEvent, LiveHub};
use tsunagu_mail::{Mailer, Outgoing};
use tsunagu_outbox::worker::Outcome;
use tsunagu_outbox::{JobHandler, Worker};
use tsunagu_privacy::audit::{self, Actor, AuditEntry};
use tsunagu_safety::alerts;
use tsunagu_store::jobs::{self, Enqueue, Job};

pub struct EscalateJob {
    pub live: LiveHub,
    pub mailer: Option<Arc<Mailer>>,
}

/// The e-mail: who it is from and where to look, never what was written.
pub fn compose(clinic: &str, link: &str) -> (String, String) {
    let subject = format!("【至急】{clinic}: 緊急の可能性があるメッセージ");
    let body = format!(
        "{clinic} に緊急の可能性があるメッセージが届きました。すぐに確認してください。\n{link}\n\n\
         An urgent message may have arrived at {clinic}. Please open it now:\n{link}\n"
    );
    (subject, body)
}

#[async_trait::async_trait]
impl JobHandler for EscalateJob {
    type Job = TriageEscalate;

    async fn run(&self, w: &Worker, job: &Job, p: TriageEscalate) -> anyhow::Result<Outcome> {
        let Some(clinic) = job.clinic_id.clone().map(ClinicId::from_db) else {
            return Ok(Outcome::Done);
        };
        let now = w.clock.now_ms();
        let mut tx = w.db.begin().await?;
        let Some(alert) = alerts::load(tx.conn(), &clinic, &p.alert_id).await? else {
            return Ok(Outcome::Done); // erased meanwhile
        };
        if alert.opened_at.is_some() {
            return Ok(Outcome::Done); // someone has it
        }
        let recipients = alert.recipients(p.step);
        let mut told = Vec::new();
        for staff in &recipients {
            if alerts::notified(tx.conn(), &alert, p.step, staff, now).await? {
                told.push(staff.clone());
            }
        }
        if told.is_empty() {
            return Ok(Outcome::Done); // nobody at this step, or a retry after it committed
        }
        let mut subjects = vec![alert.conversation_id.as_str()];
        subjects.extend(told.iter().map(String::as_str));
        let entry = AuditEntry {
            clinic_id: Some(&clinic),
            actor: &Actor::System,
            action: if p.step == 0 {
                "triage.notify"
            } else {
                "triage.escalate"
            },
            subject_type: Some("conversation"),
            subject_ids: &subjects,
            source_ip: None,
        };
        audit::record(tx.conn(), w.db.backend(), entry, now).await?;
        if alert.has_step(p.step + 1) {
            let minutes = tsunagu_safety::settings::load(tx.conn(), &clinic)
                .await?
                .escalate_minutes;
            let next = p.step + 1;
            jobs::enqueue(
                tx.conn(),
                &TriageEscalate {
                    alert_id: alert.id.clone(),
                    step: next,
                },
                Enqueue {
                    clinic_id: Some(&clinic),
                    idempotency_key: &format!("triage.escalate:{}:{next}", alert.id),
                    run_at: now + minutes * 60_000,
                },
                now,
            )
            .await?;
        }
        let clinic_name = tsunagu_store::clinics::name_of(tx.conn(), &clinic).await?;
        let mut addresses = Vec::new();
        for staff in &told {
            let id = StaffId::from_db(staff.clone());
            if let Some(s) = tsunagu_accounts::staff::by_id(tx.conn(), &id).await? {
                addresses.push(s.email);
            }
        }
        // Told and the next step queued before any e-mail: a mail server that is down never
        // stops the escalation.
        tx.commit().await?;
        self.live.publish(LiveEvent {
            clinic_id: clinic.as_str().to_string(),
            conversation_id: alert.conversation_id.clone(),
            kind: "oncall.alert",
        });
        if let Some(mailer) = &self.mailer {
            let link = format!(
                "{}/app/conversations/{}",
                w.public_base, alert.conversation_id
            );
            let (subject, body) = compose(&clinic_name, &link);
            for to in &addresses {
                let m = Outgoing {
                    to,
                    from_name: &clinic_name,
                    subject: &subject,
                    body: &body,
                };
                if let Err(e) = mailer.send(m).await {
                    tracing::warn!(error = %format!("{e:#}"), alert = %alert.id, "an on-call e-mail was not sent");
                }
            }
        }
        Ok(Outcome::Done)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_on_call_email_names_the_clinic_and_the_link_only() {
        let (subject, body) = compose("さくら内科", "https://x/app/conversations/c1");
        assert!(subject.contains("さくら内科"));
        assert!(body.contains("https://x/app/conversations/c1"));
        assert_eq!(body.lines().filter(|l| !l.is_empty()).count(), 4);
    }
}
