//! Running flows in conversations: starting one (a keyword rule, or code: `start`), taking the
//! patient's answer (one conditional UPDATE claims it), ending on timeout or an escape word.
//! The engine's actions go through the existing paths: tags and fields through `contacts`,
//! priority through `inbox::state`, the team through `inbox::routing`, webhooks as `flow.webhook`
//! jobs; each leaves a line on the conversation (`lines`). What the bot says is handed back:
//! dispatch answers an inbound message with it (reply token when fresh), and what no message
//! prompted (a start by code, a timeout) goes by push here (`push`), through consent and the
//! outbox like every automated send.
use std::collections::BTreeMap;

use anyhow::Context;
use chrono::NaiveDate;
use tsunagu_contacts::fields;
use tsunagu_contacts::input::Changes;
use tsunagu_contacts::patients::{self, PatientError};
use tsunagu_core::jobs::{FlowTimeout, FlowWebhook, ShowLoading};
use tsunagu_core::{new_id, ClinicId, ConversationId, PatientId, Priority};
use tsunagu_inbox::reply::{self, Author, Outgoing, ReplyOutcome};
use tsunagu_inbox::state::{self, By, Change};
use tsunagu_privacy::audit::Actor;
use tsunagu_privacy::consent::SendBasis;
use tsunagu_store::conversations::Conversation;
use tsunagu_store::jobs::{enqueue, Enqueue};
use tsunagu_store::{clinics, Db};

use super::engine::{self, Action, Ctx, Input, Run, Say, State};
use super::store::{self, FlowRow, NewRun, RunRow};
use crate::conversation;
use crate::lines::{self, FlowWhat, Why};

/// What a move of a run asks of the caller.
#[derive(Debug, Default)]
pub struct Effects {
    /// What the bot says, in order.
    pub says: Vec<Say>,
    /// The conversation went to staff (route it; later steps stay quiet).
    pub handed_over: bool,
}

/// How code starts a flow: answers known from the start (booking's date, a source) and who
/// started it (read back with the run, e.g. to collect its answers).
#[derive(Clone, Debug, Default)]
pub struct Start<'a> {
    pub params: BTreeMap<String, String>,
    pub caller: Option<&'a str>,
}

/// The clinic's date now (for 明日 and 12/8).
async fn today(db: &Db, clinic: &ClinicId, now_ms: i64) -> anyhow::Result<NaiveDate> {
    let mut conn = db.pool().acquire().await?;
    let tz = clinics::by_id(&mut conn, clinic)
        .await?
        .and_then(|c| c.timezone.parse::<chrono_tz::Tz>().ok())
        .unwrap_or(chrono_tz::Asia::Tokyo);
    Ok(tsunagu_core::clock::from_ms(now_ms)
        .with_timezone(&tz)
        .date_naive())
}

/// The message object a `Say` is sent as.
pub fn outgoing(say: &Say) -> Outgoing {
    match say {
        Say::Text { text } => Outgoing::text(text),
        Say::Choice { text, options } => Outgoing::choice(text, options),
    }
}

/// Starts the flow in the conversation and applies its first steps; the run's id and what to
/// say. `None`: the flow is not the clinic's, not enabled or never published, or the
/// conversation already has a flow running (it keeps that one).
pub async fn begin(
    db: &Db,
    clinic: &ClinicId,
    conv: &Conversation,
    flow_id: &str,
    how: Start<'_>,
    now_ms: i64,
) -> anyhow::Result<Option<(String, Effects)>> {
    let mut conn = db.pool().acquire().await?;
    let Some(flow) = store::get(&mut conn, clinic, flow_id).await? else {
        return Ok(None);
    };
    let Some(version) = flow.published_version.filter(|_| flow.is_enabled()) else {
        return Ok(None);
    };
    let Some(def) = store::version(&mut conn, clinic, flow_id, version).await? else {
        return Ok(None);
    };
    let (run, actions) = engine::start(&def, version, how.params);
    let expires = now_ms + i64::from(def.timeout_minutes) * 60_000;
    let new = NewRun {
        clinic,
        conversation_id: &conv.id,
        patient_id: conv.patient_id.as_deref(),
        flow_id,
        caller: how.caller,
    };
    let Some(run_id) = store::insert_run(&mut conn, new, &run, now_ms, expires).await? else {
        return Ok(None);
    };
    drop(conn);
    line(db, clinic, conv, &flow, FlowWhat::Started, None, now_ms).await?;
    let effects = apply(db, clinic, conv, &flow, &run_id, &run, &actions, now_ms).await?;
    after_move(db, clinic, &run_id, &run, expires, now_ms).await?;
    Ok(Some((run_id, effects)))
}

/// Starts a flow from code (booking, rules) and sends its first messages by push; the run's
/// id, or `None` as for [`begin`].
pub async fn start(
    db: &Db,
    clinic: &ClinicId,
    conv: &Conversation,
    flow_id: &str,
    how: Start<'_>,
    now_ms: i64,
) -> anyhow::Result<Option<String>> {
    let Some((id, effects)) = begin(db, clinic, conv, flow_id, how, now_ms).await? else {
        return Ok(None);
    };
    push(db, clinic, conv, &effects.says, now_ms).await?;
    Ok(Some(id))
}

/// Takes the patient's answer to the running flow `row`. `None`: already taken (the same
/// message again, another worker first) — nothing is said or done.
pub async fn answer(
    db: &Db,
    clinic: &ClinicId,
    conv: &Conversation,
    row: &RunRow,
    input: Input<'_>,
    message_id: &str,
    now_ms: i64,
) -> anyhow::Result<Option<Effects>> {
    if row.last_message_id.as_deref() == Some(message_id) {
        return Ok(None);
    }
    let mut conn = db.pool().acquire().await?;
    let Some(flow) = store::get(&mut conn, clinic, &row.flow_id).await? else {
        return Ok(None);
    };
    let def = store::version(&mut conn, clinic, &row.flow_id, row.version).await?;
    drop(conn);
    let ctx = Ctx {
        today: today(db, clinic, now_ms).await?,
    };
    let (new, actions) = match &def {
        Some(def) => engine::advance(def, &row.run(), input, ctx),
        // A version that cannot be read (never happens to a frozen one): a person takes over.
        None => (
            Run {
                state: State::HandedOver,
                step: None,
                ..row.run()
            },
            vec![Action::HandOver],
        ),
    };
    let minutes = def.as_ref().map_or(30, |d| d.timeout_minutes);
    let expires = now_ms + i64::from(minutes) * 60_000;
    let mut conn = db.pool().acquire().await?;
    if !store::claim(&mut conn, row, &new, Some(message_id), now_ms, expires).await? {
        return Ok(None);
    }
    drop(conn);
    let effects = apply(db, clinic, conv, &flow, &row.id, &new, &actions, now_ms).await?;
    after_move(db, clinic, &row.id, &new, expires, now_ms).await?;
    Ok(Some(effects))
}

/// The patient asked for a person (an escape word): the running flow, if any, stops. `true`
/// when one did.
pub async fn cancel(
    db: &Db,
    clinic: &ClinicId,
    conv: &Conversation,
    now_ms: i64,
) -> anyhow::Result<bool> {
    let mut conn = db.pool().acquire().await?;
    let Some(row) = store::running(&mut conn, clinic, &conv.id).await? else {
        return Ok(false);
    };
    let new = Run {
        state: State::Cancelled,
        step: None,
        ..row.run()
    };
    if !store::claim(&mut conn, &row, &new, None, now_ms, row.expires_at).await? {
        return Ok(false);
    }
    let flow = store::get(&mut conn, clinic, &row.flow_id).await?;
    drop(conn);
    if let Some(flow) = flow {
        line(db, clinic, conv, &flow, FlowWhat::Cancelled, None, now_ms).await?;
    }
    Ok(true)
}

/// Ends the run politely if nobody answered by `expires_at` (the deadline the job was queued
/// for): the closing text by push. `false`: it moved on or ended meanwhile.
pub async fn time_out(
    db: &Db,
    clinic: &ClinicId,
    run_id: &str,
    expires_at: i64,
    now_ms: i64,
) -> anyhow::Result<bool> {
    let mut conn = db.pool().acquire().await?;
    let Some(row) = store::run_by_id(&mut conn, clinic, run_id).await? else {
        return Ok(false);
    };
    if row.state != State::Running.as_str() || row.expires_at != expires_at {
        return Ok(false);
    }
    let conv_id = ConversationId::from_db(row.conversation_id.clone());
    let Some(conv) = tsunagu_store::conversations::by_id(&mut conn, clinic, &conv_id).await? else {
        return Ok(false);
    };
    let (Some(flow), Some(def)) = (
        store::get(&mut conn, clinic, &row.flow_id).await?,
        store::version(&mut conn, clinic, &row.flow_id, row.version).await?,
    ) else {
        return Ok(false);
    };
    let ctx = Ctx {
        today: today(db, clinic, now_ms).await?,
    };
    let (new, actions) = engine::advance(&def, &row.run(), Input::Timeout, ctx);
    if !store::claim(&mut conn, &row, &new, None, now_ms, row.expires_at).await? {
        return Ok(false);
    }
    drop(conn);
    line(db, clinic, &conv, &flow, FlowWhat::TimedOut, None, now_ms).await?;
    let effects = apply(db, clinic, &conv, &flow, &row.id, &new, &actions, now_ms).await?;
    push(db, clinic, &conv, &effects.says, now_ms).await?;
    Ok(true)
}

/// Sends by push, each through consent, reachability and the outbox (a reply to the
/// patient's own conversation with the bot, so within the reply window).
pub async fn push(
    db: &Db,
    clinic: &ClinicId,
    conv: &Conversation,
    says: &[Say],
    now_ms: i64,
) -> anyhow::Result<()> {
    for say in says {
        let outcome = reply::queue_outgoing(
            db,
            clinic,
            conv,
            Author::Automation,
            outgoing(say),
            SendBasis::ReplyToPatient,
            now_ms,
        )
        .await?;
        if let ReplyOutcome::Refused(why) = outcome {
            tracing::warn!(code = why.code.as_str(), conversation = %conv.id, "a flow message was not sent");
            break;
        }
    }
    Ok(())
}

/// A running run waits for its timeout job; an ended one leaves its line.
async fn after_move(
    db: &Db,
    clinic: &ClinicId,
    run_id: &str,
    run: &Run,
    expires: i64,
    now_ms: i64,
) -> anyhow::Result<()> {
    if run.state == State::Running {
        let mut conn = db.pool().acquire().await?;
        let job = FlowTimeout {
            clinic_id: clinic.clone(),
            run_id: run_id.to_string(),
            expires_at: expires,
        };
        let key = format!("flow.timeout:{run_id}:{expires}");
        let at = Enqueue {
            clinic_id: Some(clinic),
            idempotency_key: &key,
            run_at: expires,
        };
        enqueue(&mut conn, &job, at, now_ms).await?;
    }
    Ok(())
}

async fn line(
    db: &Db,
    clinic: &ClinicId,
    conv: &Conversation,
    flow: &FlowRow,
    what: FlowWhat,
    detail: Option<&str>,
    now_ms: i64,
) -> anyhow::Result<()> {
    let mut conn = db.pool().acquire().await?;
    let why = Why::Flow {
        what,
        flow: &flow.name,
        detail,
    };
    lines::record(&mut conn, clinic, conv, why, now_ms).await
}

/// Applies the engine's actions in order; what to say is collected for the caller.
#[allow(clippy::too_many_arguments)]
async fn apply(
    db: &Db,
    clinic: &ClinicId,
    conv: &Conversation,
    flow: &FlowRow,
    run_id: &str,
    run: &Run,
    actions: &[Action],
    now_ms: i64,
) -> anyhow::Result<Effects> {
    let mut out = Effects::default();
    let conv_id = ConversationId::from_db(conv.id.clone());
    let patient = conv.patient_id.clone().map(PatientId::from_db);
    let mut tags: Vec<&str> = Vec::new();
    for a in actions {
        match a {
            Action::Say(s) => out.says.push(s.clone()),
            Action::Tag(t) => {
                if let Some(p) = &patient {
                    let c = Changes {
                        tags: Some(vec![t.clone()]),
                        tags_add_only: true,
                        ..Changes::default()
                    };
                    write_patient(db, clinic, p, &c, now_ms).await?;
                    tags.push(t);
                }
            }
            Action::SetField { field, value } => {
                if let Some(p) = &patient {
                    set_field(db, clinic, conv, flow, p, field, value, now_ms).await?;
                }
            }
            Action::SetPriority(p) => {
                if let Some(p) = Priority::parse(p) {
                    let by = By {
                        actor: &Actor::System,
                        staff_id: None,
                        ip: None,
                    };
                    state::change(db, clinic, &conv_id, Change::Priority(p), by, now_ms).await?;
                }
            }
            Action::AssignTeam(team) => {
                crate::rules::hand_to_team(db, clinic, &conv.id, team, now_ms).await?;
            }
            Action::Webhook { url, completed } => {
                webhook(db, clinic, conv, flow, run_id, run, url, *completed, now_ms).await?;
                if !completed {
                    show_loading(db, clinic, conv, run_id, now_ms).await?;
                }
            }
            Action::HandOver => {
                let mut conn = db.pool().acquire().await?;
                conversation::hand_over(&mut conn, clinic, &conv.id, now_ms).await?;
                out.handed_over = true;
            }
        }
    }
    if !tags.is_empty() {
        let detail = tags.join("」「");
        line(
            db,
            clinic,
            conv,
            flow,
            FlowWhat::Tagged,
            Some(&detail),
            now_ms,
        )
        .await?;
    }
    let ended = match run.state {
        State::Completed => Some(FlowWhat::Completed),
        State::HandedOver => Some(FlowWhat::HandedOver),
        _ => None,
    };
    if let Some(what) = ended {
        // Fetch the conversation again: the priority may have moved above.
        let mut conn = db.pool().acquire().await?;
        let now_conv = tsunagu_store::conversations::by_id(&mut conn, clinic, &conv_id)
            .await?
            .unwrap_or_else(|| conv.clone());
        drop(conn);
        line(db, clinic, &now_conv, flow, what, None, now_ms).await?;
    }
    Ok(out)
}

async fn write_patient(
    db: &Db,
    clinic: &ClinicId,
    patient: &PatientId,
    c: &Changes,
    now_ms: i64,
) -> anyhow::Result<bool> {
    let mut tx = db.begin().await?;
    match patients::apply(tx.conn(), clinic, patient, c, now_ms).await {
        Ok(()) => {
            tx.commit().await?;
            Ok(true)
        }
        // Erased meanwhile, or a value the field refuses: the flow goes on without it.
        Err(PatientError::NotFound) | Err(PatientError::Invalid(_)) => Ok(false),
        Err(PatientError::Internal(e)) => Err(e),
    }
}

#[allow(clippy::too_many_arguments)]
async fn set_field(
    db: &Db,
    clinic: &ClinicId,
    conv: &Conversation,
    flow: &FlowRow,
    patient: &PatientId,
    key: &str,
    value: &str,
    now_ms: i64,
) -> anyhow::Result<()> {
    let defs = {
        let mut conn = db.pool().acquire().await?;
        fields::list(&mut conn, clinic).await?
    };
    let Some(field) = defs.iter().find(|f| f.key == key) else {
        tracing::warn!(flow = %flow.id, "a flow names a custom field the clinic no longer has");
        return Ok(());
    };
    let Ok(stored) = field.check(value) else {
        tracing::warn!(flow = %flow.id, "an answer does not fit the custom field");
        return Ok(());
    };
    let c = Changes {
        fields: vec![(field.id.clone(), stored)],
        ..Changes::default()
    };
    if write_patient(db, clinic, patient, &c, now_ms).await? {
        let label = field.label_ja.clone();
        line(
            db,
            clinic,
            conv,
            flow,
            FlowWhat::Field,
            Some(&label),
            now_ms,
        )
        .await?;
    }
    Ok(())
}

/// Queues one signed delivery (`flow.step` or `flow.completed`) with a stable id.
#[allow(clippy::too_many_arguments)]
async fn webhook(
    db: &Db,
    clinic: &ClinicId,
    conv: &Conversation,
    flow: &FlowRow,
    run_id: &str,
    run: &Run,
    url: &str,
    completed: bool,
    now_ms: i64,
) -> anyhow::Result<()> {
    let id = new_id();
    let kind = if completed {
        "flow.completed"
    } else {
        "flow.step"
    };
    let body = serde_json::json!({
        "id": id,
        "type": kind,
        "created_at": tsunagu_core::clock::from_ms(now_ms).to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "data": {
            "flow": {"id": flow.id, "name": flow.name, "version": run.version},
            "run": {"id": run_id, "state": run.state.as_str()},
            "conversation_id": conv.id,
            "patient_id": conv.patient_id,
            "answers": run.answers,
        },
    });
    let job = FlowWebhook {
        clinic_id: clinic.clone(),
        flow_id: flow.id.clone(),
        rule_id: None,
        url: url.to_string(),
        body: body.to_string(),
        first_at: now_ms,
    };
    let mut conn = db.pool().acquire().await?;
    let key = format!("flow.webhook:{id}");
    let at = Enqueue {
        clinic_id: Some(clinic),
        idempotency_key: &key,
        run_at: now_ms,
    };
    enqueue(&mut conn, &job, at, now_ms)
        .await
        .context("queueing a flow webhook")?;
    Ok(())
}

/// While a webhook step looks something up, a LINE patient sees the loading indicator
/// (`channel.show_loading`, best effort: queued beside the step, never holding its answer).
/// Other channels have none; a group chat or an unknown person gets none.
async fn show_loading(
    db: &Db,
    clinic: &ClinicId,
    conv: &Conversation,
    run_id: &str,
    now_ms: i64,
) -> anyhow::Result<()> {
    let Some(identity) = conv.channel_identity_id.as_deref() else {
        return Ok(());
    };
    let mut conn = db.pool().acquire().await?;
    let channel = tsunagu_core::ChannelId::from_db(conv.channel_id.clone());
    let is_line = tsunagu_store::channels::by_id(&mut conn, clinic, &channel)
        .await?
        .is_some_and(|c| c.kind == "line");
    if !is_line || conv.kind != "direct" {
        return Ok(());
    }
    let Some(who) = tsunagu_store::patients::identity_by_id(&mut conn, clinic, identity).await?
    else {
        return Ok(());
    };
    let job = ShowLoading {
        channel_id: channel,
        user_id: who.external_id,
        seconds: LOADING_SECONDS,
    };
    let key = format!("show_loading:{run_id}:{now_ms}");
    let at = Enqueue {
        clinic_id: Some(clinic),
        idempotency_key: &key,
        run_at: now_ms,
    };
    enqueue(&mut conn, &job, at, now_ms).await?;
    Ok(())
}

/// LINE's shortest: the step queues its webhook and goes on at once, so the next message
/// (which ends the indicator) follows; a longer one could outlast it.
const LOADING_SECONDS: u32 = 5;
