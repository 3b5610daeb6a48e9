//! The FAQ menu's two places in "who answers" (design in `automation::faq`):
//! - `choice`, right after a running flow: while a shown menu waits, a tap, its label or a
//!   typed number (「2」「２」) answers with that item; anything else ends the wait and goes on
//!   to the later steps (so 「2」 means nothing once the menu is gone);
//! - `open`, right before the keyword rules: メニュー / よくある質問 / FAQ (any width or kana)
//!   or a rich menu area's postback (`faq` shows the menu, `faq:<id>` answers one item).
//!
//! And `for_greeting`: the menu offered after the greeting when staff chose so. Each answer is
//! claimed once per message and goes through `answer` (consent, reachability, the outbox).
use tsunagu_automation::conversation;
use tsunagu_automation::faq::{self, Item, Menu};
use tsunagu_automation::flows::runtime;
use tsunagu_automation::lines::{self, Why};
use tsunagu_core::ChannelId;
use tsunagu_inbox::reply::{Outgoing, ReplyOutcome};
use tsunagu_store::channels;

use crate::{answer_outgoing, Inbound, Step};

/// What the patient sent that the menu reads: a typed text or a postback's data.
fn said(m: &Inbound) -> Option<&str> {
    let ok = m.conversation.kind == "direct"
        && m.identity.is_some()
        && matches!(m.message.kind.as_str(), "text" | "postback");
    ok.then_some(m.text.as_deref()).flatten()
}

/// The clinic's menu when it is offered on this conversation's channel.
async fn offered(m: &Inbound) -> anyhow::Result<Option<Menu>> {
    let mut conn = m.db.pool().acquire().await?;
    let menu = faq::load(&mut conn, &m.clinic).await?;
    if menu.items.is_empty() {
        return Ok(None);
    }
    let ch = ChannelId::from_db(m.conversation.channel_id.clone());
    let kind = channels::by_id(&mut conn, &m.clinic, &ch)
        .await?
        .map(|c| c.kind)
        .unwrap_or_default();
    Ok(menu.offered_on(&kind).then_some(menu))
}

async fn claim(m: &Inbound) -> anyhow::Result<bool> {
    let mut conn = m.db.pool().acquire().await?;
    conversation::claim_answer(&mut conn, &m.clinic, &m.message.id, "faq", m.clock.now_ms()).await
}

async fn line(m: &Inbound, question: Option<&str>) -> anyhow::Result<()> {
    let mut conn = m.db.pool().acquire().await?;
    let why = Why::Faq { question };
    lines::record(&mut conn, &m.clinic, &m.conversation, why, m.clock.now_ms()).await
}

fn all_sent(outcomes: &[ReplyOutcome], m: &Inbound) -> bool {
    outcomes.iter().all(|o| match o {
        ReplyOutcome::Queued(_) => true,
        ReplyOutcome::Refused(why) => {
            tracing::warn!(code = why.code.as_str(), conversation = %m.conversation.id, "a FAQ answer was not sent");
            false
        }
    })
}

/// The menu as a message, and it waits for a choice from now.
pub async fn show(m: &Inbound, menu: &Menu) -> anyhow::Result<Outgoing> {
    let mut conn = m.db.pool().acquire().await?;
    let (clinic, conv, now) = (&m.clinic, &m.conversation.id, m.clock.now_ms());
    faq::set_pending(&mut conn, clinic, conv, &menu.items, now).await?;
    Ok(runtime::outgoing(&menu.say()))
}

async fn answer_item(m: &Inbound, item: &Item) -> anyhow::Result<Step> {
    if !claim(m).await? {
        return Ok(Step::Handled);
    }
    let out = vec![Outgoing::text(&faq::answer_text(item))];
    if all_sent(&answer_outgoing(m, out).await?, m) {
        line(m, Some(&item.question)).await?;
    }
    Ok(Step::Handled)
}

/// A choice from the menu waiting in this conversation.
pub async fn choice(m: &Inbound) -> anyhow::Result<Step> {
    let Some(text) = said(m) else {
        return Ok(Step::Pass);
    };
    let shown = {
        let mut conn = m.db.pool().acquire().await?;
        let (clinic, conv) = (&m.clinic, &m.conversation.id);
        faq::pending(&mut conn, clinic, conv, m.clock.now_ms()).await?
    };
    if shown.is_empty() {
        return Ok(Step::Pass);
    }
    match faq::choose(&shown, text) {
        Some(item) => answer_item(m, item).await,
        None => {
            // The patient moved on: a number means nothing to the menu any more.
            let mut conn = m.db.pool().acquire().await?;
            faq::clear_pending(&mut conn, &m.clinic, &m.conversation.id).await?;
            Ok(Step::Pass)
        }
    }
}

/// The menu asked for by a keyword or a rich menu area, or one item by its postback.
pub async fn open(m: &Inbound) -> anyhow::Result<Step> {
    let Some(text) = said(m) else {
        return Ok(Step::Pass);
    };
    let wanted = match m.message.kind.as_str() {
        "postback" => faq::postback(text),
        _ => faq::asks_for_menu(text).then_some(None),
    };
    let Some(item_id) = wanted else {
        return Ok(Step::Pass);
    };
    let Some(menu) = offered(m).await? else {
        return Ok(Step::Pass);
    };
    if let Some(id) = item_id {
        return match menu.item(id) {
            Some(item) => answer_item(m, item).await,
            // A rich menu area naming a deleted item: the menu instead.
            None => send_menu(m, &menu).await,
        };
    }
    send_menu(m, &menu).await
}

async fn send_menu(m: &Inbound, menu: &Menu) -> anyhow::Result<Step> {
    if !claim(m).await? {
        return Ok(Step::Handled);
    }
    let out = vec![show(m, menu).await?];
    if all_sent(&answer_outgoing(m, out).await?, m) {
        line(m, None).await?;
    }
    Ok(Step::Handled)
}

/// The menu to send after the greeting, when staff offer it there and this message is not
/// itself asking for it (`open` answers that one).
pub async fn for_greeting(m: &Inbound) -> anyhow::Result<Option<Outgoing>> {
    if said(m).is_some_and(faq::asks_for_menu) {
        return Ok(None);
    }
    let Some(menu) = offered(m).await?.filter(|menu| menu.in_greeting) else {
        return Ok(None);
    };
    Ok(Some(show(m, &menu).await?))
}
