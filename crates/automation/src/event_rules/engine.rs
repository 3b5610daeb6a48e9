//! One event in, the clinic's matching rules fired in order. Each rule's firing is claimed in
//! `event_rule_firings` (rule × event key) in the transaction that applies its actions and
//! writes its line, so a retried job or a redelivered event fires nothing twice; a rule with
//! "stop later rules" ends the run; an event deeper than [`MAX_DEPTH`] (a rule tagging, which
//! set off a rule, which tagged…) fires nothing. Replies and flows are automated answers: they
//! stay quiet while a person handles the conversation and on a red flag (urgent), and a reply
//! goes through the consent check and the outbox (refused: the line says so, nothing is sent).
use tsunagu_core::jobs::{EventRuleFire, FlowWebhook};
use tsunagu_core::{ClinicId, Code, ConversationId, PatientId, Priority};
use tsunagu_inbox::reply::{self, queue_in, Author, Outgoing, ReplyOutcome};
use tsunagu_inbox::{routing, state};
use tsunagu_privacy::audit::Actor;
use tsunagu_privacy::consent::{Purpose, SendBasis};
use tsunagu_store::conversations::Conversation;
use tsunagu_store::jobs::{enqueue, Enqueue};
use tsunagu_store::Db;

use super::facts::Facts;
use super::{store, Action, Kind, Rule, MAX_DEPTH};
use crate::lines::{self, Why};

/// An event as the engine sees it (loaded by `jobs`, or by `dispatch` for a message).
pub struct Event {
    pub fire: EventRuleFire,
    pub patient: Option<String>,
    pub conversation: Option<Conversation>,
    pub text: Option<String>,
    /// The LINE reply token of the patient's action (a message, a friend-add) and when it was
    /// issued: a rule's reply goes with it while fresh (free of the monthly quota).
    pub reply_token: Option<(String, i64)>,
}

/// What a run did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Fired {
    /// The names of the rules that fired, in order.
    pub rules: Vec<String>,
    /// A rule's reply was queued for the patient.
    pub replied: bool,
}

fn trigger_matches(rule: &Rule, ev: &EventRuleFire) -> bool {
    let t = &rule.trigger;
    if let Some(tag) = &t.tag {
        if !ev.tags.contains(tag) {
            return false;
        }
    }
    if t.purpose.is_some() && t.purpose != ev.purpose {
        return false;
    }
    t.granted.is_none() || t.granted == ev.granted
}

/// Whether an automated answer may go now: nobody handling the conversation, no red flag.
async fn may_answer(
    db: &Db,
    clinic: &ClinicId,
    conv: &Conversation,
    now: i64,
) -> anyhow::Result<bool> {
    if conv.priority >= Priority::Urgent.as_i64() {
        return Ok(false);
    }
    if conv.status == "resolved" {
        return Ok(true); // resolved: nobody is handling it any more
    }
    let mut conn = db.pool().acquire().await?;
    let settings = crate::settings::load(&mut conn, clinic).await?;
    Ok(
        crate::conversation::quiet(&mut conn, conv, settings.quiet_minutes, now)
            .await?
            .is_none(),
    )
}

/// Fires the clinic's rules for the event, in order. Never fails half-way through a rule: each
/// rule's actions and its line commit together.
pub async fn run(db: &Db, ev: &Event, now: i64) -> anyhow::Result<Fired> {
    let mut fired = Fired::default();
    let clinic = &ev.fire.clinic_id;
    if ev.fire.depth > MAX_DEPTH {
        tracing::warn!(event = %ev.fire.event_key, "event rules stopped: too deep a chain of rules");
        return Ok(fired);
    }
    let (rules, facts) = {
        let mut conn = db.pool().acquire().await?;
        let rules = store::enabled_for(&mut conn, clinic, ev.fire.kind).await?;
        if rules.is_empty() {
            return Ok(fired);
        }
        let (p, c) = (ev.patient.as_deref(), ev.conversation.as_ref());
        let facts = Facts::load(&mut conn, clinic, p, c, ev.text.clone(), now).await?;
        (rules, facts)
    };
    let answer_ok = match &ev.conversation {
        Some(c) => may_answer(db, clinic, c, now).await?,
        None => false,
    };
    for rule in rules {
        if !trigger_matches(&rule, &ev.fire) || !rule.conditions.iter().all(|c| facts.holds(c)) {
            continue;
        }
        if fire_one(db, ev, &rule, answer_ok, now, &mut fired).await? {
            fired.rules.push(rule.name.clone());
        }
        if rule.stop_later {
            break;
        }
    }
    Ok(fired)
}

/// One rule: claim, act, record. `false`: it fired for this event already.
async fn fire_one(
    db: &Db,
    ev: &Event,
    rule: &Rule,
    answer_ok: bool,
    now: i64,
    fired: &mut Fired,
) -> anyhow::Result<bool> {
    let clinic = &ev.fire.clinic_id;
    let conv = ev.conversation.as_ref();
    let mut tx = db.begin().await?;
    let key = &ev.fire.event_key;
    if !store::claim_firing(
        tx.conn(),
        clinic,
        &rule.id,
        key,
        conv.map(|c| c.id.as_str()),
        now,
    )
    .await?
    {
        return Ok(false);
    }
    let mut done: Vec<String> = Vec::new();
    let mut flows: Vec<&str> = Vec::new();
    for action in &rule.actions {
        let said = match action {
            Action::Tag { tag } => tag_patient(&mut tx, ev, tag, now).await?,
            Action::Priority { priority } => {
                let (Some(c), Some(p)) = (conv, Priority::parse(priority)) else {
                    continue;
                };
                let by = state::By {
                    actor: &Actor::System,
                    staff_id: None,
                    ip: None,
                };
                let id = ConversationId::from_db(c.id.clone());
                let change = state::Change::Priority(p);
                state::change_in(tx.conn(), db.backend(), clinic, &id, change, by, now).await?;
                format!("優先度を「{}」にしました", priority_ja(p))
            }
            Action::Assign { team_id } => {
                let Some(c) = conv else { continue };
                // A team deleted since the rule was saved: nothing to assign to.
                let Some(team) = routing::teams::get(tx.conn(), clinic, team_id).await? else {
                    continue;
                };
                let name = team.name;
                let target = routing::Target {
                    staff: None,
                    team: Some(Some(team_id)),
                };
                let by = routing::assign::By {
                    actor: &Actor::System,
                    source_ip: None,
                };
                routing::assign::assign_in(tx.conn(), db.backend(), clinic, &c.id, target, by, now)
                    .await?;
                format!("{name}に割り当てました")
            }
            Action::Reply { text } => {
                let Some(c) = conv else { continue };
                if !answer_ok {
                    "返信は送りませんでした（スタッフが対応中、または緊急の可能性があるため）"
                        .into()
                } else if !claim_message(&mut tx, ev, now).await? {
                    "返信は送りませんでした（ほかの自動応答が返信済みのため）".into()
                } else {
                    // An answer to the patient's own action (a message, a friend-add) is a
                    // reply; anything else the clinic starts is a care message.
                    let basis = match ev.fire.kind {
                        Kind::MessageReceived | Kind::FriendAdded => SendBasis::ReplyToPatient,
                        _ => SendBasis::Purpose(Purpose::Care),
                    };
                    let outcome = match by_token(&mut tx, ev, c, text, now).await? {
                        Some(o) => o,
                        None => {
                            let out = Outgoing::text(text);
                            queue_in(&mut tx, clinic, c, Author::Automation, out, basis, now)
                                .await?
                        }
                    };
                    match outcome {
                        ReplyOutcome::Queued(_) => {
                            fired.replied = true;
                            "返信を送りました".into()
                        }
                        ReplyOutcome::Refused(r) => {
                            tracing::info!(rule = %rule.id, code = r.code.as_str(), "an event rule's reply was refused");
                            "返信は送りませんでした（患者さんの同意がない、または届かないため）"
                                .into()
                        }
                    }
                }
            }
            Action::StartFlow { flow_id } => {
                if conv.is_none() {
                    continue;
                }
                if !answer_ok {
                    "フローは開始しませんでした（スタッフが対応中、または緊急の可能性があるため）"
                        .into()
                } else {
                    flows.push(flow_id);
                    let name = crate::flows::store::get(tx.conn(), clinic, flow_id)
                        .await?
                        .map(|f| f.name);
                    format!("フロー『{}』を開始しました", name.unwrap_or_default())
                }
            }
            Action::Enroll { sequence_id } => enroll(&mut tx, ev, sequence_id, now).await?,
            Action::Webhook { url } => {
                webhook(&mut tx, ev, rule, url, now).await?;
                "Webhookを送りました".into()
            }
        };
        if !said.is_empty() {
            done.push(said);
        }
    }
    if let Some(c) = conv {
        let detail = if done.is_empty() {
            "（何もしませんでした）".to_string()
        } else {
            done.join("、")
        };
        let why = Why::EventRule {
            rule: &rule.name,
            detail: &detail,
        };
        lines::record(tx.conn(), clinic, c, why, now).await?;
    }
    tx.commit().await?;
    // A flow starts in its own transactions (its run, its lines, its first messages).
    if let Some(c) = conv {
        for flow in flows {
            let start = crate::flows::runtime::Start::default();
            crate::flows::runtime::start(db, clinic, c, flow, start, now).await?;
        }
    }
    Ok(true)
}

/// A rule's reply as LINE's reply to the patient's action while its token is fresh; `None`:
/// no token, or another answer used it (the reply then goes by push, through the checks).
async fn by_token(
    tx: &mut tsunagu_store::Tx,
    ev: &Event,
    c: &Conversation,
    text: &str,
    now: i64,
) -> anyhow::Result<Option<ReplyOutcome>> {
    let Some((token, at)) = reply::fresh_token(ev.reply_token.as_ref(), now) else {
        return Ok(None);
    };
    let clinic = &ev.fire.clinic_id;
    let messages = vec![serde_json::json!({"type": "text", "text": text})];
    let o = reply::queue_auto_reply_in(tx, clinic, c, Some(token), at, messages, now).await?;
    Ok(match o {
        ReplyOutcome::Refused(r) if matches!(r.code, Code::ReplyTokenUsed | Code::NoReplyToken) => {
            None
        }
        o => Some(o),
    })
}

/// A reply to a message claims the message's one automated answer (keyword rules and the away
/// message then stay quiet on it, also when the job runs again).
async fn claim_message(tx: &mut tsunagu_store::Tx, ev: &Event, now: i64) -> anyhow::Result<bool> {
    let Some(m) = ev
        .fire
        .message_id
        .as_ref()
        .filter(|_| ev.fire.kind == Kind::MessageReceived)
    else {
        return Ok(true);
    };
    let clinic = &ev.fire.clinic_id;
    crate::conversation::claim_answer(tx.conn(), clinic, m.as_str(), "event_rule", now).await
}

fn priority_ja(p: Priority) -> &'static str {
    match p {
        Priority::Urgent => "緊急",
        Priority::High => "高",
        Priority::Normal => "通常",
        Priority::Low => "低",
    }
}

/// Tags through `contacts` (which queues the next `patient_tagged` event one level deeper).
async fn tag_patient(
    tx: &mut tsunagu_store::Tx,
    ev: &Event,
    tag: &str,
    now: i64,
) -> anyhow::Result<String> {
    let Some(p) = &ev.patient else {
        return Ok(String::new());
    };
    let change = tsunagu_contacts::input::Changes {
        tags: Some(vec![tag.to_string()]),
        tags_add_only: true,
        rule_depth: ev.fire.depth + 1,
        ..Default::default()
    };
    let id = PatientId::from_db(p.clone());
    match tsunagu_contacts::patients::apply(tx.conn(), &ev.fire.clinic_id, &id, &change, now).await
    {
        Ok(()) => Ok(format!("タグ「{tag}」を付けました")),
        Err(tsunagu_contacts::patients::PatientError::Internal(e)) => Err(e),
        Err(_) => Ok(String::new()),
    }
}

async fn enroll(
    tx: &mut tsunagu_store::Tx,
    ev: &Event,
    seq: &str,
    now: i64,
) -> anyhow::Result<String> {
    let clinic = &ev.fire.clinic_id;
    let Some(p) = &ev.patient else {
        return Ok(String::new());
    };
    let Some(seq) = crate::sequences::store::get(tx.conn(), clinic, seq).await? else {
        return Ok(String::new());
    };
    let Some(schedule) = crate::away::schedule(tx.conn(), clinic).await? else {
        return Ok(String::new());
    };
    let channel = ev.conversation.as_ref().map(|c| c.channel_id.as_str());
    let enrolled =
        crate::sequences::enrollments::enroll(tx.conn(), clinic, &seq, p, channel, &schedule, now)
            .await?;
    Ok(match enrolled {
        Some(_) => format!("ステップ配信『{}』に登録しました", seq.name),
        None => format!("ステップ配信『{}』には登録済みです", seq.name),
    })
}

/// Queues the signed delivery on the flows' webhook sender (`flow.webhook` with the rule's id:
/// signed with the rule's key, SSRF-safe, retried for 24 hours under one delivery id).
async fn webhook(
    tx: &mut tsunagu_store::Tx,
    ev: &Event,
    rule: &Rule,
    url: &str,
    now: i64,
) -> anyhow::Result<()> {
    let id = tsunagu_core::new_id();
    let body = serde_json::json!({
        "id": id,
        "type": "event_rule.fired",
        "created_at": tsunagu_core::clock::from_ms(now).to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "data": {
            "rule": {"id": rule.id, "name": rule.name},
            "event": ev.fire.kind.as_str(),
            "conversation_id": ev.conversation.as_ref().map(|c| c.id.clone()),
            "patient_id": ev.patient,
        },
    });
    let job = FlowWebhook {
        clinic_id: ev.fire.clinic_id.clone(),
        flow_id: String::new(),
        rule_id: Some(rule.id.clone()),
        url: url.to_string(),
        body: body.to_string(),
        first_at: now,
    };
    let key = format!("flow.webhook:{id}");
    let at = Enqueue {
        clinic_id: Some(&ev.fire.clinic_id),
        idempotency_key: &key,
        run_at: now,
    };
    enqueue(tx.conn(), &job, at, now).await?;
    Ok(())
}
