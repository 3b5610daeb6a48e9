//! "A pending question" (issue 12 item 6): the satisfaction survey's score, then its optional
//! comment, right after a running flow. A score (a tap, 5, ５, 「5」) or, while the comment is
//! awaited, the next text is taken once (`automation_answered`, then the survey's own
//! conditional UPDATE: a redelivered answer is recorded once). Anything else closes the
//! question and goes on to the other steps: nobody is kept in a survey. A good score puts the
//! conversation back to resolved (the answer needs nobody); a low one leaves it open for staff
//! with a line saying so.
use tsunagu_automation::conversation;
use tsunagu_automation::lines::{self, Why};
use tsunagu_automation::satisfaction::surveys::{self, Survey};
use tsunagu_automation::satisfaction::{score, settings, ANSWER_HOURS, COMMENT_MINUTES, LOW};
use tsunagu_inbox::reply::{Outgoing, ReplyOutcome};

use crate::{answer_outgoing, Inbound, Step};

const HOUR_MS: i64 = 60 * 60 * 1000;

pub async fn step(m: &Inbound) -> anyhow::Result<Step> {
    if m.conversation.kind != "direct" || m.identity.is_none() {
        return Ok(Step::Pass);
    }
    let survey = {
        let mut conn = m.db.pool().acquire().await?;
        surveys::waiting(&mut conn, &m.clinic, &m.conversation.id).await?
    };
    let Some(survey) = survey else {
        return Ok(Step::Pass);
    };
    let now = m.clock.now_ms();
    let text = match m.message.kind.as_str() {
        "text" | "postback" => m.text.as_deref(),
        _ => None,
    };
    let step = match survey.state.as_str() {
        "asked" => {
            let fresh = survey.asked_at.unwrap_or(0) + ANSWER_HOURS * HOUR_MS >= now;
            match text.and_then(score).filter(|_| fresh) {
                Some(s) => scored(m, &survey, s, now).await?,
                None => Step::Pass,
            }
        }
        _ => {
            let fresh = survey.comment_until.unwrap_or(0) >= now;
            match text.filter(|_| fresh) {
                Some(t) => commented(m, &survey, t, now).await?,
                None => Step::Pass,
            }
        }
    };
    if step == Step::Pass {
        let mut conn = m.db.pool().acquire().await?;
        surveys::close(&mut conn, &m.clinic, &survey.id).await?;
    }
    Ok(step)
}

async fn scored(m: &Inbound, survey: &Survey, s: i64, now: i64) -> anyhow::Result<Step> {
    let mut tx = m.db.begin().await?;
    if !conversation::claim_answer(tx.conn(), &m.clinic, &m.message.id, "satisfaction", now).await?
    {
        return Ok(Step::Handled); // answered already (a redelivery)
    }
    let settings = settings::load(tx.conn(), &m.clinic).await?;
    let prompt = (!settings.comment_prompt.is_empty()).then_some(&settings.comment_prompt);
    let until = prompt.map(|_| now + COMMENT_MINUTES * 60_000);
    if !surveys::answer(tx.conn(), &m.clinic, &survey.id, s, until, now).await? {
        return Ok(Step::Handled);
    }
    if s <= LOW {
        let score = s.to_string();
        let why = Why::SurveyLow { score: &score };
        lines::record(tx.conn(), &m.clinic, &m.conversation, why, now).await?;
    } else {
        surveys::settle(
            tx.conn(),
            &m.clinic,
            &survey.conversation_id,
            survey.resolved_at,
        )
        .await?;
    }
    tx.commit().await?;
    say(m, prompt.unwrap_or(&settings.thanks)).await?;
    Ok(Step::Handled)
}

async fn commented(m: &Inbound, survey: &Survey, text: &str, now: i64) -> anyhow::Result<Step> {
    let mut tx = m.db.begin().await?;
    if !conversation::claim_answer(tx.conn(), &m.clinic, &m.message.id, "satisfaction", now).await?
    {
        return Ok(Step::Handled);
    }
    if !surveys::comment(tx.conn(), &m.clinic, &survey.id, text, now).await? {
        return Ok(Step::Handled);
    }
    if survey.score.unwrap_or(0) > LOW {
        surveys::settle(
            tx.conn(),
            &m.clinic,
            &survey.conversation_id,
            survey.resolved_at,
        )
        .await?;
    }
    let settings = settings::load(tx.conn(), &m.clinic).await?;
    tx.commit().await?;
    say(m, &settings.thanks).await?;
    Ok(Step::Handled)
}

async fn say(m: &Inbound, text: &str) -> anyhow::Result<()> {
    for o in answer_outgoing(m, vec![Outgoing::text(text)]).await? {
        if let ReplyOutcome::Refused(why) = o {
            tracing::warn!(code = why.code.as_str(), conversation = %m.conversation.id, "a survey answer was not sent");
        }
    }
    Ok(())
}
