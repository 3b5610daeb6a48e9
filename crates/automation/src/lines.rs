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
    /// A flow did something (`flows::runtime`): started, tagged, saved a field, completed,
    /// handed over, timed out, was cancelled. `detail`: the tags or the field's name.
    Flow {
        what: FlowWhat,
        flow: &'a str,
        detail: Option<&'a str>,
    },
    /// A step sequence sent its step (1-based).
    Sequence { name: &'a str, step: i64 },
    /// The patient came through an inflow source (its code was in the message).
    Source { name: &'a str },
    /// The satisfaction survey was sent after the resolve.
    SurveyAsked,
    /// The patient gave a low satisfaction score (`detail`: the score).
    SurveyLow { score: &'a str },
    /// An event rule (自動ルール) fired; `detail`: what it did, in Japanese.
    EventRule { rule: &'a str, detail: &'a str },
    /// The FAQ menu was shown (`question` none) or answered one of its questions.
    Faq { question: Option<&'a str> },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FlowWhat {
    Started,
    Tagged,
    Field,
    Completed,
    HandedOver,
    TimedOut,
    Cancelled,
}

impl FlowWhat {
    pub fn as_str(self) -> &'static str {
        match self {
            FlowWhat::Started => "flow_started",
            FlowWhat::Tagged => "flow_tagged",
            FlowWhat::Field => "flow_field",
            FlowWhat::Completed => "flow_completed",
            FlowWhat::HandedOver => "flow_handed_over",
            FlowWhat::TimedOut => "flow_timed_out",
            FlowWhat::Cancelled => "flow_cancelled",
        }
    }
}

impl Why<'_> {
    pub fn what(&self) -> &'static str {
        match self {
            Why::Keyword { .. } => "keyword",
            Why::KeywordToTeam { .. } => "keyword_team",
            Why::Away => "away",
            Why::Greeting => "greeting",
            Why::HandedOver => "handed_over",
            Why::Flow { what, .. } => what.as_str(),
            Why::Sequence { .. } => "sequence",
            Why::Source { .. } => "source",
            Why::SurveyAsked => "survey_asked",
            Why::SurveyLow { .. } => "survey_low",
            Why::EventRule { .. } => "event_rule",
            Why::Faq { question: None } => "faq_menu",
            Why::Faq { question: Some(_) } => "faq_answer",
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
            Why::Flow { what, flow, detail } => {
                let d = detail.unwrap_or_default();
                match what {
                    FlowWhat::Started => format!("フロー『{flow}』を開始しました"),
                    FlowWhat::Tagged => format!("フロー『{flow}』がタグ「{d}」を付けました"),
                    FlowWhat::Field => format!("フロー『{flow}』が項目「{d}」に回答を保存しました"),
                    FlowWhat::Completed => format!("フロー『{flow}』が完了しました"),
                    FlowWhat::HandedOver => {
                        format!("フロー『{flow}』からスタッフに引き継ぎました")
                    }
                    FlowWhat::TimedOut => {
                        format!("フロー『{flow}』はお返事がなかったため終了しました")
                    }
                    FlowWhat::Cancelled => {
                        format!("患者さんがスタッフを希望したため、フロー『{flow}』を中止しました")
                    }
                }
            }
            Why::Sequence { name, step } => {
                format!("ステップ配信『{name}』の{step}通目を自動で送りました")
            }
            Why::Source { name } => format!("流入経路『{name}』のQRコードから来ました"),
            Why::SurveyAsked => "満足度アンケートを自動で送りました".into(),
            Why::SurveyLow { score } => {
                format!("満足度アンケートの回答が{score}（5段階）でした。内容をご確認ください")
            }
            Why::EventRule { rule, detail } => {
                format!("自動ルール『{rule}』を実行しました: {detail}")
            }
            Why::Faq { question: None } => "よくある質問メニューを自動で送りました".into(),
            Why::Faq { question: Some(q) } => {
                format!("よくある質問『{q}』の回答を自動で送りました")
            }
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
    let (rule, team, detail) = match why {
        Why::Keyword { rule } => (Some(rule), None, None),
        Why::KeywordToTeam { rule, team } => (Some(rule), Some(team), None),
        Why::Flow { flow, detail, .. } => (Some(flow), None, detail),
        Why::Sequence { name, .. } | Why::Source { name } => (Some(name), None, None),
        Why::SurveyLow { score } => (None, None, Some(score)),
        Why::EventRule { rule, detail } => (Some(rule), None, Some(detail)),
        Why::Faq { question } => (question, None, None),
        _ => (None, None, None),
    };
    let mut payload = serde_json::json!({
        "event": "automation", "what": why.what(), "rule": rule, "team": team, "detail": detail,
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
    let handed = matches!(
        why,
        Why::HandedOver
            | Why::Flow {
                what: FlowWhat::HandedOver,
                ..
            }
    );
    if handed && conv.priority < Priority::High.as_i64() {
        conversations::state::set_priority(&mut *conn, clinic, &conv_id, Priority::High).await?;
    }
    Ok(())
}
