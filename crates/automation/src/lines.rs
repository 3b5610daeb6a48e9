//! The line automation leaves on a conversation, so staff see why something happened
//! (「自動応答『駐車場』が返信しました」). A system line with payload `{"event": "automation",
//! "what": …, "rule": …}`, worded by the page (`msg.event.automation.<what>`); the body keeps
//! the Japanese sentence for readers that do not know the event (the API, exports). It does not
//! move the conversation in the list.
use anyhow::Context;
use sqlx::AnyConnection;
use tsunagu_core::{ChannelId, ClinicId, ConversationId, Priority};
use tsunagu_store::conversations::{self, Conversation, NewMessage};

/// What automation did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Why<'a> {
    /// A keyword rule answered.
    Keyword { rule: &'a str },
    /// A keyword rule answered and handed the conversation to a team.
    KeywordToTeam { rule: &'a str, team: &'a str },
    /// The away message went.
    Away,
    /// The greeting went.
    Greeting,
    /// The patient asked for a person.
    HandedOver,
    /// A step sequence sent its step (1-based).
    Sequence { name: &'a str, step: i64 },
    /// The patient came through an inflow source (its code was in the message).
    Source { name: &'a str },
}

impl Why<'_> {
    pub fn what(&self) -> &'static str {
        match self {
            Why::Keyword { .. } => "keyword",
            Why::KeywordToTeam { .. } => "keyword_team",
            Why::Away => "away",
            Why::Greeting => "greeting",
            Why::HandedOver => "handed_over",
            Why::Sequence { .. } => "sequence",
            Why::Source { .. } => "source",
        }
    }

    /// The sentence kept in the body (Japanese, the clinic's language).
    fn sentence(&self) -> String {
        match self {
            Why::Keyword { rule } => format!("自動応答『{rule}』が返信しました"),
            Why::KeywordToTeam { rule, team } => {
                format!("自動応答『{rule}』が返信し、{team}に引き継ぎました")
            }
            Why::Away => "診療時間外のため、時間外メッセージを自動で送りました".into(),
            Why::Greeting => "友だち追加のあいさつメッセージを自動で送りました".into(),
            Why::HandedOver => {
                "患者さんがスタッフとの会話を希望しています。解決するまで自動応答は止まります"
                    .into()
            }
            Why::Sequence { name, step } => {
                format!("ステップ配信『{name}』の{step}通目を自動で送りました")
            }
            Why::Source { name } => format!("流入経路『{name}』のQRコードから来ました"),
        }
    }
}

/// Writes the line (and for a hand-over raises the priority to high).
pub async fn record(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    conv: &Conversation,
    why: Why<'_>,
    now_ms: i64,
) -> anyhow::Result<()> {
    let (rule, team) = match why {
        Why::Keyword { rule } => (Some(rule), None),
        Why::KeywordToTeam { rule, team } => (Some(rule), Some(team)),
        Why::Sequence { name, .. } | Why::Source { name } => (Some(name), None),
        _ => (None, None),
    };
    let mut payload = serde_json::json!({
        "event": "automation", "what": why.what(), "rule": rule, "team": team,
    });
    if let Why::Sequence { step, .. } = why {
        payload["step"] = step.into();
    }
    let conv_id = ConversationId::from_db(conv.id.clone());
    let channel = ChannelId::from_db(conv.channel_id.clone());
    let body = why.sentence();
    conversations::insert_quiet_line(
        &mut *conn,
        NewMessage {
            clinic_id: clinic,
            conversation_id: &conv_id,
            channel_id: &channel,
            direction: "system",
            kind: "system",
            body: Some(&body),
            payload: &payload.to_string(),
            sender_identity_id: None,
            author_kind: "system",
            author_staff_id: None,
            provider_message_id: None,
            status: "received",
            at_ms: now_ms,
        },
    )
    .await
    .context("writing the automation line on the conversation")?;
    if why == Why::HandedOver && conv.priority < Priority::High.as_i64() {
        conversations::state::set_priority(&mut *conn, clinic, &conv_id, Priority::High).await?;
    }
    Ok(())
}
