//! The automation steps of "who answers" (`tsunagu_automation` decides and remembers; this
//! module answers through `answer`, so every automated message goes through the outbox with
//! the reply token when fresh, else by push after the consent and reachability checks):
//! the human escape words, the greeting, keyword rules and the away message. Each answer leaves
//! a line on the conversation saying why (`automation::lines`).
//!
//! Automation stays quiet while a person handles the conversation (assigned and a staff reply
//! within the clinic's quiet window) and after an escape word until staff resolve it. It only
//! ever looks at what a patient sent in a one-to-one chat, so its own answers, staff replies and
//! group chats never set it off; and each inbound message is answered at most once
//! (`conversation::claim_answer`), whatever happens to the job.
use anyhow::Context;
use chrono::{DateTime, Utc};
use tsunagu_automation::conversation::{self, Quiet};
use tsunagu_automation::flows::{self, runtime};
use tsunagu_automation::lines::{self, Why};
use tsunagu_automation::settings::Settings;
use tsunagu_automation::sources::Attributed;
use tsunagu_automation::{away, event_rules, greetings, line_login, rules, sequences, sources};
use tsunagu_calendar::Schedule;
use tsunagu_core::jobs::{EventRuleFire, RuleEventKind};
use tsunagu_inbox::canned;
use tsunagu_inbox::reply::{Outgoing, ReplyOutcome};

use crate::{answer, answer_all, answer_outgoing, consent_commands, Inbound, Step};

/// What the automation steps share for one message, loaded once.
pub struct Auto {
    pub settings: Settings,
    pub quiet: Option<Quiet>,
    schedule: Option<Schedule>,
}

impl Auto {
    pub async fn load(m: &Inbound) -> anyhow::Result<Auto> {
        let mut conn = m.db.pool().acquire().await?;
        let settings = tsunagu_automation::settings::load(&mut conn, &m.clinic).await?;
        let quiet = conversation::quiet(
            &mut conn,
            &m.conversation,
            settings.quiet_minutes,
            m.clock.now_ms(),
        )
        .await?;
        let schedule = away::schedule(&mut conn, &m.clinic).await?;
        Ok(Auto {
            settings,
            quiet,
            schedule,
        })
    }

    /// Whether the clinic is open now (a clinic without a calendar counts as open: no away
    /// message is better than a wrong one).
    fn open(&self, now: DateTime<Utc>) -> bool {
        self.schedule.as_ref().is_none_or(|s| s.is_open(now))
    }
}

/// A text the patient typed in a one-to-one chat: the only thing keyword rules, escape words
/// and the away message look at.
fn typed(m: &Inbound) -> Option<&str> {
    (m.conversation.kind == "direct" && m.message.kind == "text" && m.identity.is_some())
        .then_some(m.text.as_deref())
        .flatten()
}

/// A friend-add (LINE follow, or unblock): the system line ingest writes for it.
fn is_follow(m: &Inbound) -> bool {
    m.message.kind == "event" && matches!(m.message.body.as_deref(), Some("followed" | "unblocked"))
}

fn now(m: &Inbound) -> DateTime<Utc> {
    tsunagu_core::clock::from_ms(m.clock.now_ms())
}

async fn vars(m: &Inbound) -> anyhow::Result<canned::Vars> {
    let mut conn = m.db.pool().acquire().await?;
    canned::vars::for_conversation(&mut conn, &m.clinic, &m.conversation, "").await
}

async fn line(m: &Inbound, why: Why<'_>) -> anyhow::Result<()> {
    let mut conn = m.db.pool().acquire().await?;
    lines::record(&mut conn, &m.clinic, &m.conversation, why, m.clock.now_ms()).await
}

async fn claim(m: &Inbound, step: &str) -> anyhow::Result<bool> {
    let mut conn = m.db.pool().acquire().await?;
    conversation::claim_answer(&mut conn, &m.clinic, &m.message.id, step, m.clock.now_ms()).await
}

fn sent(outcome: &ReplyOutcome, m: &Inbound, step: &str) -> bool {
    match outcome {
        ReplyOutcome::Queued(_) => true,
        ReplyOutcome::Refused(why) => {
            tracing::warn!(code = why.code.as_str(), conversation = %m.conversation.id, step, "an automated answer was not sent");
            false
        }
    }
}

/// スタッフ, 人と話したい, …: the patient is told a person will answer, the conversation is
/// marked (a line, priority high) and left to staff; automation keeps quiet on it until it is
/// resolved.
pub async fn escape(m: &Inbound, a: &Auto) -> anyhow::Result<Step> {
    let Some(text) = typed(m) else {
        return Ok(Step::Pass);
    };
    if !a.settings.asks_for_a_person(text) {
        return Ok(Step::Pass);
    }
    if !claim(m, "handed_over").await? {
        return Ok(Step::ToStaff);
    }
    let now_ms = m.clock.now_ms();
    {
        let mut conn = m.db.pool().acquire().await?;
        conversation::hand_over(&mut conn, &m.clinic, &m.conversation.id, now_ms).await?;
    }
    // A flow in progress stops: nobody is trapped in a bot.
    flows::runtime::cancel(&m.db, &m.clinic, &m.conversation, now_ms).await?;
    line(m, Why::HandedOver).await?;
    let mut reply =
        "スタッフにおつなぎします。順番にお返事しますので、このままお待ちください。".to_string();
    if let Some(s) = a.schedule.as_ref().filter(|s| !s.is_open(now(m))) {
        reply.push_str("\nただいま診療時間外のため、お返事は診療時間内になります。");
        if let Some(next) = away::next_opening_ja(s, now(m)) {
            reply.push('\n');
            reply.push_str(&next);
        }
    }
    let outcome = answer(m, &reply).await?;
    sent(&outcome, m, "handed_over");
    Ok(Step::ToStaff)
}

/// The channel's greeting on friend-add (LINE follow) or first contact, once per identity:
/// the greeting, the consent question per purpose (the 配信設定 question, answered by number)
/// and, for an unverified identity, how to verify, then the FAQ menu when staff offer it
/// there. It never stops the steps after it: a first
/// message may still be answered by a keyword rule.
pub async fn greeting(m: &Inbound) -> anyhow::Result<()> {
    let Some(ident) = &m.identity else {
        return Ok(());
    };
    if m.conversation.kind != "direct" {
        return Ok(());
    }
    let follow = is_follow(m);
    let mut conn = m.db.pool().acquire().await?;
    // A Messenger person's first contact is often the Get Started button (a postback).
    let first_contact = matches!(m.message.kind.as_str(), "text" | "postback")
        && conversation::is_first_contact(&mut conn, &m.conversation.id, &ident.id, &m.message.id)
            .await?;
    if !follow && !first_contact {
        return Ok(());
    }
    let Some(g) = greetings::active(&mut conn, &m.clinic, &m.conversation.channel_id).await? else {
        return Ok(());
    };
    if !conversation::claim_greeting(&mut conn, &m.clinic, &ident.id, m.clock.now_ms()).await? {
        return Ok(());
    }
    drop(conn);
    let mut texts = vec![canned::render::render(&g.greeting_text, &vars(m).await?)];
    if g.ask_consent {
        if let Some(q) = consent_commands::greeting_question(m).await? {
            texts.push(q);
        }
    }
    if g.offer_verification && ident.verified == 0 {
        texts.push("ご本人確認（診察券番号と生年月日）がお済みでない方は「本人確認」と送ってください。ご予約や検査結果のご案内をこちらでお受け取りいただけます。".to_string());
    }
    // The FAQ menu too when staff offer it with the greeting.
    let menu = crate::faq::for_greeting(m).await?;
    let with_menu = menu.is_some();
    let outcomes = match menu {
        Some(menu) => {
            let mut out: Vec<Outgoing> = texts.iter().map(|t| Outgoing::text(t)).collect();
            out.push(menu);
            answer_outgoing(m, out).await?
        }
        None => answer_all(m, &texts).await?,
    };
    if outcomes.iter().all(|o| sent(o, m, "greeting")) {
        line(m, Why::Greeting).await?;
        if with_menu {
            line(m, Why::Faq { question: None }).await?;
        }
    }
    Ok(())
}

/// Friend-add (LINE follow or unblock) in a one-to-one chat enrolls the patient in the step
/// sequences it starts, whether or not automation is quiet: the steps are checked when due.
pub async fn friend_added(m: &Inbound) -> anyhow::Result<()> {
    let Some(ident) = &m.identity else {
        return Ok(());
    };
    let follow = is_follow(m);
    if !follow || m.conversation.kind != "direct" {
        return Ok(());
    }
    let (clinic, channel) = (&m.clinic, &m.conversation.channel_id);
    let now = m.clock.now_ms();
    sequences::jobs::on_friend_added(&m.db, clinic, &ident.patient_id, channel, now).await?;
    Ok(())
}

/// A message carrying an inflow source's code (「QRコードから登録します [S-7K2Q]」): the scan
/// is recorded, the patient tagged and a line left for staff. When it carried one, keyword
/// rules and the away message leave it alone (the greeting or the source's welcome still
/// runs), so the prefilled words set off no other automation.
pub async fn source_code(m: &Inbound) -> anyhow::Result<Attributed> {
    // A link's `ref` (Messenger m.me) names the source as the prefilled words do elsewhere.
    let linked = m
        .source_ref
        .as_deref()
        .filter(|_| m.conversation.kind == "direct");
    let (Some(text), Some(ident)) = (typed(m).or(linked), &m.identity) else {
        return Ok(Attributed::Nothing);
    };
    let (clinic, channel) = (&m.clinic, &m.conversation.channel_id);
    let now = m.clock.now_ms();
    let (patient, message) = (&ident.patient_id, &m.message.id);
    let found = sources::attribute(&m.db, clinic, channel, patient, message, text, now).await?;
    if let Attributed::Arrived(arrival) = &found {
        let name = &arrival.source.name;
        line(m, Why::Source { name }).await?;
    }
    Ok(found)
}

/// The source's welcome (its greeting, then its flow's first messages, one reply) when the
/// patient arrived through a source that welcomes this time. It stands in for the channel's
/// greeting: the identity counts as greeted, so the channel greeting never also goes (on LINE
/// the follow comes before the code's message, so there it has gone already and the welcome
/// follows it). `true` when the welcome took this message (sent or claimed before).
pub async fn source_welcome(m: &Inbound, sourced: &Attributed) -> anyhow::Result<bool> {
    let (Attributed::Arrived(arrival), Some(ident)) = (sourced, &m.identity) else {
        return Ok(false);
    };
    if !arrival.welcomed() || m.conversation.kind != "direct" {
        return Ok(false);
    }
    if !claim(m, "source_welcome").await? {
        return Ok(true);
    }
    let (db, clinic, now) = (&m.db, &m.clinic, m.clock.now_ms());
    {
        let mut conn = db.pool().acquire().await?;
        conversation::claim_greeting(&mut conn, clinic, &ident.id, now).await?;
    }
    let out = sources::welcome_content(db, clinic, &m.conversation, &arrival.source, now).await?;
    if !out.is_empty() {
        for o in answer_outgoing(m, out).await? {
            sent(&o, m, "source_welcome");
        }
    }
    Ok(true)
}

/// A follow (friend-add) of a patient who came through a source's LINE Login link whose
/// welcome is still owed (the follow webhook came after the callback): the welcome goes as the
/// answer to the follow, instead of the channel greeting. `true` when it did.
pub async fn login_welcome(m: &Inbound) -> anyhow::Result<bool> {
    let Some(ident) = &m.identity else {
        return Ok(false);
    };
    let follow = is_follow(m);
    if !follow || m.conversation.kind != "direct" {
        return Ok(false);
    }
    let (db, clinic, now) = (&m.db, &m.clinic, m.clock.now_ms());
    let Some(source) = line_login::welcome::claim(db, clinic, &ident.id, now).await? else {
        return Ok(false);
    };
    if !claim(m, "source_welcome").await? {
        return Ok(true);
    }
    let out = sources::welcome_content(db, clinic, &m.conversation, &source, now).await?;
    if !out.is_empty() {
        for o in answer_outgoing(m, out).await? {
            sent(&o, m, "source_welcome");
        }
    }
    Ok(true)
}

/// The clinic's event rules (自動ルール) on "message received", a step of its own: after a
/// running flow (the patient's words are its answer) and the greeting (first contact is greeted
/// first), before keyword rules — a rule is the clinic's deliberate, narrower automation (its
/// conditions: tags, fields, time, consent…), so when one replies, keyword rules and the away
/// message stay quiet on the message; a rule that only tags, assigns or raises the priority
/// lets them answer. Like every automation step it never runs while a person handles the
/// conversation, on a red flag or on a group chat.
pub async fn event_rules(m: &Inbound) -> anyhow::Result<Step> {
    let Some(ident) = &m.identity else {
        return Ok(Step::Pass);
    };
    if m.conversation.kind != "direct" || m.message.kind == "event" {
        return Ok(Step::Pass); // a follow is `friend_added`, queued at ingest
    }
    let fire = EventRuleFire {
        clinic_id: m.clinic.clone(),
        kind: RuleEventKind::MessageReceived,
        event_key: format!("message:{}", m.message.id),
        message_id: Some(tsunagu_core::MessageId::from_db(m.message.id.clone())),
        patient_id: Some(ident.patient_id.clone()),
        conversation_id: Some(m.conversation.id.clone()),
        tags: vec![],
        purpose: None,
        granted: None,
        depth: 0,
    };
    let ev = event_rules::engine::Event {
        fire,
        patient: Some(ident.patient_id.clone()),
        conversation: Some(m.conversation.clone()),
        text: typed(m).map(str::to_string),
        reply_token: m.reply_token.clone(),
    };
    let fired = event_rules::engine::run(&m.db, &ev, m.clock.now_ms()).await?;
    Ok(if fired.replied {
        Step::Handled
    } else {
        Step::Pass
    })
}

/// The first keyword rule that matches answers; a rule with a team hands the conversation to it.
pub async fn keywords(m: &Inbound, a: &Auto) -> anyhow::Result<Step> {
    let Some(text) = typed(m) else {
        return Ok(Step::Pass);
    };
    let open = a.open(now(m));
    let rule = {
        let mut conn = m.db.pool().acquire().await?;
        rules::find_match(&mut conn, &m.clinic, &m.conversation.channel_id, text, open).await?
    };
    let Some(rule) = rule else {
        return Ok(Step::Pass);
    };
    if !claim(m, "keyword").await? {
        return Ok(Step::Handled);
    }
    let mut out = Vec::new();
    if !rule.reply_text.is_empty() {
        let reply = canned::render::render(&rule.reply_text, &vars(m).await?);
        out.push(Outgoing::text(&reply));
    }
    // フローを開始: the flow's first messages go with the reply (one reply token).
    let mut flow_handed_over = false;
    if let Some(flow) = &rule.flow_id {
        let (db, clinic, now) = (&m.db, &m.clinic, m.clock.now_ms());
        let start = runtime::Start::default();
        if let Some((_, fx)) = runtime::begin(db, clinic, &m.conversation, flow, start, now).await?
        {
            out.extend(fx.says.iter().map(runtime::outgoing));
            flow_handed_over = fx.handed_over;
        }
    }
    if out.is_empty() {
        return Ok(Step::Pass);
    }
    if !answer_outgoing(m, out)
        .await?
        .iter()
        .all(|o| sent(o, m, "keyword"))
    {
        return Ok(Step::Pass);
    }
    let team = match &rule.team_id {
        Some(t) => {
            rules::hand_to_team(&m.db, &m.clinic, &m.conversation.id, t, m.clock.now_ms()).await?
        }
        None => None,
    };
    match &team {
        Some(team) => {
            line(
                m,
                Why::KeywordToTeam {
                    rule: &rule.name,
                    team,
                },
            )
            .await?;
            Ok(Step::ToStaff)
        }
        None => {
            if !rule.reply_text.is_empty() {
                line(m, Why::Keyword { rule: &rule.name }).await?;
            }
            Ok(if flow_handed_over {
                Step::ToStaff
            } else {
                Step::Handled
            })
        }
    }
}

/// Outside opening hours, the away message with the next opening, at most once per
/// conversation in the clinic's N hours. The message still waits for staff.
pub async fn away_message(m: &Inbound, a: &Auto) -> anyhow::Result<()> {
    if typed(m).is_none() || !a.settings.away_enabled {
        return Ok(());
    }
    let Some(schedule) = a.schedule.as_ref().filter(|s| !s.is_open(now(m))) else {
        return Ok(());
    };
    {
        let mut conn = m.db.pool().acquire().await?;
        let every = a.settings.away_every_hours;
        let (clinic, conv) = (&m.clinic, &m.conversation.id);
        if !conversation::claim_away(&mut conn, clinic, conv, every, m.clock.now_ms())
            .await
            .context("claiming the away message")?
        {
            return Ok(());
        }
    }
    if !claim(m, "away").await? {
        return Ok(());
    }
    let text = canned::render::render(&a.settings.away_text, &vars(m).await?);
    let text = away::compose(&text, schedule, now(m));
    if sent(&answer(m, &text).await?, m, "away") {
        line(m, Why::Away).await?;
    }
    Ok(())
}
