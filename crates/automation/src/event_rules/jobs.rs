//! `event_rule.fire`, registered in the binary's `job_handlers`: loads what the event names
//! (its message, else its conversation, else the patient's latest one-to-one conversation, on
//! which the firing's line is written) and runs the engine.
use tsunagu_core::jobs::EventRuleFire;
use tsunagu_core::ConversationId;
use tsunagu_outbox::worker::Outcome;
use tsunagu_outbox::{JobHandler, Worker};
use tsunagu_store::conversations;
use tsunagu_store::jobs::Job;

use super::engine::{self, Event};

pub struct Fire;

/// Reads the event's conversation, patient and text. `None`: erased meanwhile.
pub async fn load(
    conn: &mut sqlx::AnyConnection,
    p: EventRuleFire,
) -> anyhow::Result<Option<Event>> {
    let clinic = &p.clinic_id;
    let mut text = None;
    let mut reply_token = None;
    let mut conv_id = p.conversation_id.clone();
    if let Some(m) = &p.message_id {
        let Some(msg) = conversations::message_by_id(&mut *conn, clinic, m).await? else {
            return Ok(None);
        };
        let payload = serde_json::from_str(&msg.payload).unwrap_or_default();
        reply_token = tsunagu_inbox::reply::stored_token(&payload);
        text = msg.body.filter(|_| msg.kind == "text");
        conv_id = Some(msg.conversation_id);
    }
    let mut conversation = match conv_id {
        Some(id) => {
            let id = ConversationId::from_db(id);
            let Some(c) = conversations::by_id(&mut *conn, clinic, &id).await? else {
                return Ok(None);
            };
            Some(c)
        }
        None => None,
    };
    let patient = p
        .patient_id
        .clone()
        .or_else(|| conversation.as_ref().and_then(|c| c.patient_id.clone()));
    if conversation.is_none() {
        if let Some(pid) = &patient {
            conversation = conversations::latest_direct_of_patient(&mut *conn, clinic, pid).await?;
        }
    }
    Ok(Some(Event {
        fire: p,
        patient,
        conversation,
        text,
        reply_token,
    }))
}

#[async_trait::async_trait]
impl JobHandler for Fire {
    type Job = EventRuleFire;

    async fn run(&self, w: &Worker, _: &Job, p: EventRuleFire) -> anyhow::Result<Outcome> {
        let now = w.clock.now_ms();
        let ev = {
            let mut conn = w.db.pool().acquire().await?;
            load(&mut conn, p).await?
        };
        if let Some(ev) = ev {
            let fired = engine::run(&w.db, &ev, now).await?;
            if !fired.rules.is_empty() {
                if let Some(c) = &ev.conversation {
                    (w.on_change)(ev.fire.clinic_id.as_str(), &c.id);
                }
            }
        }
        Ok(Outcome::Done)
    }
}
