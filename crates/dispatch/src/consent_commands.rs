//! The patient's consent commands in chat, answered before anything else: 配信停止 (and its
//! variants) withdraws everything but `care` on this channel; 配信設定 shows the settings as
//! numbered choices and waits (a `consent_prompts` row, 10 minutes) for the number.
//! Every change goes to the ledger with source `chat`, the exact words shown, and the time.
use anyhow::Context;
use serde::{Deserialize, Serialize};
use sqlx::AnyConnection;
use tsunagu_automation::sequences::enrollments;
use tsunagu_core::text::{match_form, search_form};
use tsunagu_core::{new_id, ChannelId, ClinicId, PatientId};
use tsunagu_inbox::reply::ReplyOutcome;
use tsunagu_privacy::consent::{self, ConsentActor, NewConsent, Purpose, Source};
use tsunagu_store::Db;

use crate::{answer, Inbound, Step};

/// What patients type, in the form `search_form` gives (width, kana and case folded). The one
/// list of these words.
const STOP_WORDS: &[&str] = &[
    "配信停止",
    "配信解除",
    "停止",
    "テイシ",
    "ストップ",
    "stop",
    "unsubscribe",
    "optout",
];
const SETTINGS_WORDS: &[&str] = &["配信設定", "ハイシンセッテイ", "配信再開", "settings"];

/// What 配信停止 stops; `care` stays so answers about the patient's own care still reach them.
const STOPPABLE: [Purpose; 3] = [
    Purpose::Reminders,
    Purpose::HealthInformation,
    Purpose::Marketing,
];

/// How long a 配信設定 question waits for its number.
const PROMPT_TTL_MS: i64 = 10 * 60_000;

#[derive(Debug, PartialEq, Eq)]
enum Command {
    Stop,
    Settings,
}

/// The text as compared: folded, without spaces, quotes or closing punctuation.
fn normalize(text: &str) -> String {
    match_form(text).replace(['-', '_'], "")
}

fn command(text: &str) -> Option<Command> {
    let n = normalize(text);
    let is = |words: &[&str]| words.iter().any(|w| search_form(w) == n);
    if is(STOP_WORDS) {
        Some(Command::Stop)
    } else if is(SETTINGS_WORDS) {
        Some(Command::Settings)
    } else {
        None
    }
}

/// One numbered answer of a 配信設定 question, with the words shown for it.
#[derive(Clone, Debug, Serialize, Deserialize)]
struct Choice {
    key: String,
    purposes: Vec<Purpose>,
    granted: bool,
    wording: String,
}

struct Who<'a> {
    clinic: &'a ClinicId,
    patient: PatientId,
    channel: ChannelId,
    identity_id: &'a str,
    lang: &'static str,
}

/// The dispatch step: commands in the patient's one-to-one chat, or the number answering an
/// open 配信設定 question.
pub async fn step(m: &Inbound) -> anyhow::Result<Step> {
    let Some(text) = &m.text else {
        return Ok(Step::Pass);
    };
    if m.message.kind != "text" {
        return Ok(Step::Pass);
    }
    let Some(who) = who(m) else {
        return Ok(Step::Pass);
    };
    let now = m.clock.now_ms();
    match command(text) {
        Some(Command::Stop) => stop(m, &who, now).await,
        Some(Command::Settings) => settings(m, &who, now).await,
        None => answer_prompt(m, &who, text, now).await,
    }
}

/// The patient in their one-to-one chat; `None` elsewhere.
fn who(m: &Inbound) -> Option<Who<'_>> {
    let ident = m.identity.as_ref()?;
    if m.conversation.kind != "direct" {
        return None;
    }
    Some(Who {
        clinic: &m.clinic,
        patient: PatientId::from_db(ident.patient_id.clone()),
        channel: ChannelId::from_db(m.conversation.channel_id.clone()),
        identity_id: &ident.id,
        // Japanese unless the patient's LINE is set to another language.
        lang: match ident.language.as_deref() {
            Some(l) if !l.starts_with("ja") => "en",
            _ => "ja",
        },
    })
}

async fn stop(m: &Inbound, who: &Who<'_>, now: i64) -> anyhow::Result<Step> {
    let names: Vec<&str> = STOPPABLE.iter().map(|p| p.label(who.lang)).collect();
    let reply = if who.lang == "ja" {
        format!(
            "配信を停止しました。\n停止したもの:{}\n診療・ご予約に関するご連絡と、お問い合わせへの返信は引き続きお送りします。\n再開するには「配信設定」と送ってください。",
            names.join("、")
        )
    } else {
        format!(
            "You will no longer receive: {}.\nWe will still answer your messages and contact you about your care and appointments.\nTo start again, send \"配信設定\" (settings).",
            names.join(", ")
        )
    };
    let mut tx = m.db.begin().await?;
    close_prompts(tx.conn(), &m.conversation.id, now).await?;
    for purpose in STOPPABLE {
        record(tx.conn(), &m.db, who, purpose, false, &reply, now).await?;
    }
    tx.commit()
        .await
        .context("recording the patient's 配信停止")?;
    say(m, &reply).await?;
    Ok(Step::Handled)
}

async fn settings(m: &Inbound, who: &Who<'_>, now: i64) -> anyhow::Result<Step> {
    let reply = ask(m, who, None, now).await?;
    say(m, &reply).await?;
    Ok(Step::Handled)
}

/// The 配信設定 question for the greeting (`automation::greeting`): the same numbered choices,
/// waiting for the number the same way, led by a welcome instead of "your current settings".
/// `None` outside a one-to-one chat with a known sender.
pub async fn greeting_question(m: &Inbound) -> anyhow::Result<Option<String>> {
    let Some(who) = who(m) else {
        return Ok(None);
    };
    let lead = if who.lang == "ja" {
        "お知らせの受け取りについてお伺いします。"
    } else {
        "Which messages would you like to receive from us?"
    };
    Ok(Some(ask(m, &who, Some(lead), m.clock.now_ms()).await?))
}

/// Builds the numbered question, stores it as the open `consent_prompts` row and returns its
/// words (not sent yet).
async fn ask(m: &Inbound, who: &Who<'_>, lead: Option<&str>, now: i64) -> anyhow::Result<String> {
    let mut conn = m.db.pool().acquire().await?;
    let states = consent::current(&mut conn, who.clinic, &who.patient).await?;
    drop(conn);
    let receiving = |p: Purpose| {
        states.iter().any(|s| {
            s.purpose == p
                && s.channel_id.as_deref() == Some(who.channel.as_str())
                && s.status.allows()
        })
    };
    let ja = who.lang == "ja";
    let mut lines = vec![match (lead, ja) {
        (Some(l), _) => l.to_string(),
        (None, true) => "現在の配信設定です。".to_string(),
        (None, false) => "Your current settings:".to_string(),
    }];
    let mut choices = Vec::new();
    for (i, p) in STOPPABLE.iter().enumerate() {
        let on = receiving(*p);
        let state = match (on, ja) {
            (true, true) => "受け取る",
            (false, true) => "停止中",
            (true, false) => "on",
            (false, false) => "off",
        };
        // A greeting asks afresh: a new patient has nothing "stopped" yet.
        if lead.is_none() {
            lines.push(format!("・{}:{state}", p.label(who.lang)));
        }
        let key = (i + 1).to_string();
        let wording = match (on, ja) {
            (true, true) => format!("{key} {}を停止する", p.label(who.lang)),
            (false, true) => format!("{key} {}を受け取る", p.label(who.lang)),
            (true, false) => format!("{key} Stop {}", p.label(who.lang)),
            (false, false) => format!("{key} Receive {}", p.label(who.lang)),
        };
        choices.push(Choice {
            key,
            purposes: vec![*p],
            granted: !on,
            wording,
        });
    }
    let off: Vec<Purpose> = STOPPABLE
        .iter()
        .copied()
        .filter(|p| !receiving(*p))
        .collect();
    if off.len() > 1 {
        let wording = if ja {
            "0 すべて受け取る"
        } else {
            "0 Receive all of these"
        };
        choices.push(Choice {
            key: "0".into(),
            purposes: off,
            granted: true,
            wording: wording.into(),
        });
    }
    lines.push(if ja {
        "変更するには番号を送ってください(10分間有効):".into()
    } else {
        "To change, send a number (valid for 10 minutes):".into()
    });
    lines.extend(choices.iter().map(|c| c.wording.clone()));
    lines.push(if ja {
        "すべて停止するには「配信停止」と送ってください。".into()
    } else {
        "To stop all of them, send \"配信停止\" (stop).".into()
    });
    let reply = lines.join("\n");

    let mut tx = m.db.begin().await?;
    close_prompts(tx.conn(), &m.conversation.id, now).await?;
    sqlx::query(
        "INSERT INTO consent_prompts (id, clinic_id, patient_id, channel_id, conversation_id, choices, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(new_id())
    .bind(who.clinic.as_str())
    .bind(who.patient.as_str())
    .bind(who.channel.as_str())
    .bind(&m.conversation.id)
    .bind(serde_json::to_string(&choices)?)
    .bind(now)
    .bind(now + PROMPT_TTL_MS)
    .execute(tx.conn())
    .await
    .context("storing the 配信設定 question")?;
    tx.commit().await?;
    Ok(reply)
}

/// A number answering the open question applies the choice shown; anything else closes the
/// question (so a later "1" meant for staff changes nothing) and passes.
async fn answer_prompt(m: &Inbound, who: &Who<'_>, text: &str, now: i64) -> anyhow::Result<Step> {
    let mut conn = m.db.pool().acquire().await?;
    let open: Option<(String, String)> = sqlx::query_as(
        "SELECT id, choices FROM consent_prompts WHERE conversation_id = $1 AND closed_at IS NULL AND expires_at > $2
         ORDER BY created_at DESC LIMIT 1",
    )
    .bind(&m.conversation.id)
    .bind(now)
    .fetch_optional(&mut *conn)
    .await
    .context("looking for an open 配信設定 question")?;
    drop(conn);
    let Some((prompt_id, choices)) = open else {
        return Ok(Step::Pass);
    };
    let choices: Vec<Choice> = serde_json::from_str(&choices).unwrap_or_default();
    let picked = choices.into_iter().find(|c| c.key == normalize(text));
    let mut tx = m.db.begin().await?;
    // Closed at most once: a repeated job or a second answer applies nothing twice.
    let closed = sqlx::query(
        "UPDATE consent_prompts SET closed_at = $1 WHERE id = $2 AND closed_at IS NULL",
    )
    .bind(now)
    .bind(&prompt_id)
    .execute(tx.conn())
    .await
    .context("closing the 配信設定 question")?;
    let Some(choice) = picked.filter(|_| closed.rows_affected() == 1) else {
        tx.commit().await?;
        return Ok(Step::Pass);
    };
    for purpose in &choice.purposes {
        record(
            tx.conn(),
            &m.db,
            who,
            *purpose,
            choice.granted,
            &choice.wording,
            now,
        )
        .await?;
    }
    tx.commit()
        .await
        .context("recording the patient's 配信設定 answer")?;
    let reply = if who.lang == "ja" {
        format!(
            "設定を変更しました:{}\n「配信設定」でいつでも確認・変更できます。",
            choice.wording
        )
    } else {
        format!(
            "Done: {}\nSend \"配信設定\" (settings) any time to check or change.",
            choice.wording
        )
    };
    say(m, &reply).await?;
    Ok(Step::Handled)
}

#[allow(clippy::too_many_arguments)]
async fn record(
    conn: &mut AnyConnection,
    db: &Db,
    who: &Who<'_>,
    purpose: Purpose,
    granted: bool,
    wording: &str,
    now: i64,
) -> anyhow::Result<()> {
    let entry = NewConsent {
        clinic: who.clinic,
        patient: &who.patient,
        purpose,
        channel: Some(&who.channel),
        granted,
        source: Source::Chat,
        wording,
        reason: None,
        actor: ConsentActor::Patient {
            identity_id: who.identity_id.to_string(),
        },
        source_ip: None,
    };
    consent::record(conn, db.backend(), entry, now)
        .await
        .context("recording the patient's consent command")?
        .map_err(|r| anyhow::anyhow!("the ledger refused the consent command: {}", r.code))?;
    if !granted {
        // Step sequences for the purpose stop now (a step due later would be refused anyway).
        let patient = who.patient.as_str();
        enrollments::stop_for_purpose(conn, who.clinic, patient, purpose, now).await?;
    }
    Ok(())
}

async fn close_prompts(
    conn: &mut AnyConnection,
    conversation: &str,
    now: i64,
) -> anyhow::Result<()> {
    sqlx::query("UPDATE consent_prompts SET closed_at = $1 WHERE conversation_id = $2 AND closed_at IS NULL")
        .bind(now)
        .bind(conversation)
        .execute(conn)
        .await
        .context("closing earlier 配信設定 questions")?;
    Ok(())
}

/// The change is recorded whatever happens to the answer; a refused answer is logged.
async fn say(m: &Inbound, text: &str) -> anyhow::Result<()> {
    if let ReplyOutcome::Refused(why) = answer(m, text).await? {
        tracing::warn!(code = why.code.as_str(), conversation = %m.conversation.id, "a consent confirmation was not sent");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stop_words_match_in_any_width_kana_or_case() {
        for t in [
            "配信停止",
            " 配信停止。",
            "ていし",
            "テイシ",
            "ﾃｲｼ",
            "ＳＴＯＰ",
            "Stop",
            "stop!",
            "停止",
            "「配信停止」",
        ] {
            assert_eq!(command(t), Some(Command::Stop), "{t}");
        }
        for t in ["配信設定", "はいしんせってい", "ＳＥＴＴＩＮＧＳ"] {
            assert_eq!(command(t), Some(Command::Settings), "{t}");
        }
    }

    #[test]
    fn a_sentence_that_mentions_stopping_is_not_a_command() {
        for t in [
            "薬の服用を停止してもいいですか",
            "stop by tomorrow",
            "配信停止したい理由は",
            "1",
        ] {
            assert_eq!(command(t), None, "{t}");
        }
    }

    #[test]
    fn full_width_numbers_answer_a_question() {
        assert_eq!(normalize("１"), "1");
        assert_eq!(normalize(" 2。"), "2");
    }
}
