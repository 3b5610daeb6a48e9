//! One chat bubble per message: what kind it is, what to show for it, who sent it and, for our
//! replies, whether it went out. Bodies are escaped by the templates; nothing here builds HTML.
use std::collections::HashMap;

use serde::Serialize;
use serde_json::Value;
use tsunagu_core::Code;
use tsunagu_store::conversations::Message;

use super::queries::AttachmentRef;
use super::view::{size_label, Zone};
use crate::i18n;

#[derive(Clone, Debug, Serialize)]
pub struct AttachmentView {
    pub href: String,
    pub is_image: bool,
    pub size: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct LocationView {
    pub title: String,
    pub address: String,
    pub coords: String,
    pub map_href: String,
}

#[derive(Clone, Debug, Serialize)]
pub struct MessageView {
    pub id: String,
    /// in | out
    pub direction: String,
    /// text | image | video | audio | file | sticker | location | postback | unsent | system | unknown
    pub kind: &'static str,
    pub text: Option<String>,
    pub time_label: String,
    pub time_iso: String,
    /// Who wrote it, when that is worth saying: the sender in a group, the staff member or
    /// the automation for our replies.
    pub author: Option<String>,
    /// queued | sent | read | failed | in_doubt (outbound only).
    pub status: Option<&'static str>,
    /// Why it failed, always in the staff's words (`failure`): never the stored English or a
    /// provider's number, which the API's `failure_reason` keeps.
    pub failure_reason: Option<String>,
    pub retryable: bool,
    pub attachments: Vec<AttachmentView>,
    pub file_name: Option<String>,
    pub sticker: Option<(String, String)>,
    pub location: Option<LocationView>,
    pub postback_data: Option<String>,
    /// What red-flag triage found in a patient's text, and its sentiment (`triage_view`).
    pub triage: Option<super::triage_view::TriageMark>,
}

/// Everything a page of messages needs besides the rows.
pub struct Decorations<'a> {
    pub lang: &'a str,
    pub zone: Zone,
    pub now_ms: i64,
    pub group: bool,
    pub attachments: &'a [AttachmentRef],
    pub senders: &'a HashMap<String, String>,
    pub staff: &'a HashMap<String, String>,
}

fn text_at(v: &Value, keys: &[&str]) -> Option<String> {
    keys.iter().find_map(|k| match v.pointer(k)? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    })
}

fn outbound_status(status: &str) -> &'static str {
    match status {
        "sent" | "delivered" => "sent",
        "read" => "read",
        "failed" => "failed",
        "in_doubt" => "in_doubt",
        _ => "queued",
    }
}

fn location(payload: &Value, body: Option<&str>) -> Option<LocationView> {
    let lat = payload.get("latitude").and_then(Value::as_f64)?;
    let lon = payload.get("longitude").and_then(Value::as_f64)?;
    let title = text_at(payload, &["/title"]).unwrap_or_default();
    let address = text_at(payload, &["/address"]).unwrap_or_else(|| {
        if title.is_empty() {
            body.unwrap_or("").to_string()
        } else {
            String::new()
        }
    });
    Some(LocationView {
        title,
        address,
        coords: format!("{lat:.6}, {lon:.6}"),
        map_href: format!("https://www.google.com/maps/search/?api=1&query={lat:.6},{lon:.6}"),
    })
}

/// A failed or doubtful send's reason, in the staff's language: the words of its stable code
/// from the one catalog. The stored text (a worker's or a provider's English) stays in the API's
/// `failure_reason` and the logs; a code that is not ours (a provider's own number) reads as
/// the provider refusing, no code at all as a send that did not go.
fn failure(m: &Message, lang: &str) -> String {
    let words = match m.failure_code.as_deref() {
        None | Some("") => i18n::text(lang, "fixes.msg.failed"),
        Some(c) => i18n::code(lang, Code::parse(c).unwrap_or(Code::RejectedByProvider)),
    };
    words
}

/// Every system line the app writes, by the event its payload names: LINE follow/unfollow and
/// group events (`channels::line::receive`), SMS STOP/START (`Consent::note`), a locked
/// verification (`privacy::verification::session`), WhatsApp's `system` messages (their type),
/// a Messenger m.me link opened (`channels::messenger::receive`).
pub const SYSTEM_EVENTS: &[&str] = &[
    "followed",
    "unblocked",
    "referral",
    "blocked",
    "join",
    "leave",
    "memberJoined",
    "memberLeft",
    "opted_out",
    "opted_in",
    "verification_locked",
    "user_changed_number",
    "customer_changed_number",
    "customer_identity_changed",
];

/// A system line in the staff's words (`msg.event.<event>`); an event not in the list reads as
/// a general sentence, never as its code (nor as a provider's English body).
fn system_line(payload: &Value, body: Option<&str>, lang: &str) -> String {
    let event = text_at(payload, &["/event", "/message/system/type"]);
    match event.as_deref() {
        Some(e) if SYSTEM_EVENTS.contains(&e) => i18n::text(lang, &format!("msg.event.{e}")),
        // What automation did and why (「自動応答『駐車場』が返信しました」), by what it did.
        Some("automation") => {
            let what = text_at(payload, &["/what"]).unwrap_or_default();
            const KNOWN: [&str; 19] = [
                "keyword",
                "keyword_team",
                "away",
                "greeting",
                "handed_over",
                "flow_started",
                "flow_tagged",
                "flow_field",
                "flow_completed",
                "flow_handed_over",
                "flow_timed_out",
                "flow_cancelled",
                "sequence",
                "source",
                "survey_asked",
                "survey_low",
                "event_rule",
                "faq_menu",
                "faq_answer",
            ];
            if KNOWN.contains(&what.as_str()) {
                let rule = text_at(payload, &["/rule"]).unwrap_or_default();
                let team = text_at(payload, &["/team"]).unwrap_or_default();
                let detail = text_at(payload, &["/detail"]).unwrap_or_default();
                let step = payload["step"].as_i64().unwrap_or_default().to_string();
                let key = format!("msg.event.automation.{what}");
                let args = [
                    ("rule", &rule),
                    ("team", &team),
                    ("detail", &detail),
                    ("step", &step),
                ];
                i18n::text_with(lang, &key, &args.map(|(k, v)| (k, v.as_str())))
            } else {
                i18n::text(lang, "msg.event.other")
            }
        }
        // Triage raised the conversation: the phrase it found and its category, in words.
        Some("triage") => {
            let phrase = text_at(payload, &["/phrase"]).unwrap_or_default();
            let category = text_at(payload, &["/category"])
                .map(|c| i18n::text(lang, &format!("safety.category.{c}")))
                .unwrap_or_default();
            let key = match payload.pointer("/crisis").and_then(Value::as_bool) {
                Some(true) => "msg.event.triage_crisis",
                _ => "msg.event.triage",
            };
            i18n::text_with(lang, key, &[("phrase", &phrase), ("category", &category)])
        }
        // Lines tsunagu writes in words itself, naming people (an assignment).
        Some("assignment") => body
            .filter(|b| !b.trim().is_empty())
            .map(str::to_owned)
            .unwrap_or_else(|| i18n::text(lang, "msg.event.other")),
        _ => i18n::text(lang, "msg.event.other"),
    }
}

pub fn message_view(m: &Message, d: &Decorations<'_>) -> MessageView {
    let payload: Value = serde_json::from_str(&m.payload).unwrap_or(Value::Null);
    let outbound = m.direction == "out";
    let attachments: Vec<AttachmentView> = d
        .attachments
        .iter()
        .filter(|a| a.message_id == m.id)
        .map(|a| AttachmentView {
            href: format!("/app/attachments/{}", a.id),
            is_image: super::attachments::shows_inline_image(&a.content_type),
            size: size_label(a.size_bytes),
        })
        .collect();
    let mut v = MessageView {
        id: m.id.clone(),
        direction: if outbound { "out".into() } else { "in".into() },
        kind: "unknown",
        text: None,
        time_label: d.zone.label(m.created_at, d.now_ms),
        time_iso: d.zone.iso(m.created_at),
        author: None,
        status: None,
        failure_reason: None,
        retryable: false,
        attachments,
        file_name: None,
        sticker: None,
        location: None,
        postback_data: None,
        triage: None,
    };
    if outbound {
        let status = outbound_status(&m.status);
        v.status = Some(status);
        v.retryable = matches!(status, "failed" | "in_doubt");
        if v.retryable {
            v.failure_reason = Some(failure(m, d.lang));
        }
        v.author = match m.author_kind.as_str() {
            "staff" => Some(
                m.author_staff_id
                    .as_ref()
                    .and_then(|id| d.staff.get(id).cloned())
                    .unwrap_or_else(|| i18n::text(d.lang, "msg.author.staff")),
            ),
            "automation" => Some(i18n::text(d.lang, "msg.author.automation")),
            _ => None,
        };
    } else if d.group {
        v.author = m
            .sender_identity_id
            .as_ref()
            .and_then(|id| d.senders.get(id).cloned());
    }
    if m.unsent_at.is_some() {
        v.kind = "unsent";
        v.attachments.clear();
        return v;
    }
    let body = m.body.clone().filter(|b| !b.is_empty());
    match m.kind.as_str() {
        "text" => {
            v.kind = "text";
            v.text = body.or_else(|| text_at(&payload, &["/text"]));
        }
        k @ ("image" | "video" | "audio" | "file") => {
            v.kind = match k {
                "image" => "image",
                "video" => "video",
                "audio" => "audio",
                _ => "file",
            };
            v.file_name =
                text_at(&payload, &["/fileName"]).or(if k == "file" { body } else { None });
        }
        "sticker" => {
            v.kind = "sticker";
            v.sticker = text_at(&payload, &["/packageId"]).zip(text_at(&payload, &["/stickerId"]));
        }
        "location" => {
            v.kind = "location";
            v.location = location(&payload, body.as_deref());
            if v.location.is_none() {
                v.text = body;
            }
        }
        "postback" => {
            v.kind = "postback";
            v.postback_data = text_at(&payload, &["/data", "/postback/data"]).or(body);
        }
        "event" | "system" => {
            v.kind = "system";
            v.text = state_line(m, &payload, d)
                .or_else(|| Some(system_line(&payload, body.as_deref(), d.lang)));
        }
        _ => {
            v.kind = "unknown";
        }
    }
    v
}

/// A state or priority change (`inbox::state`) in words: who, and what they did.
fn state_line(m: &Message, payload: &Value, d: &Decorations<'_>) -> Option<String> {
    let name = m
        .author_staff_id
        .as_ref()
        .and_then(|id| d.staff.get(id).cloned())
        .unwrap_or_else(|| i18n::text(d.lang, "state.line.someone"));
    let words = match text_at(payload, &["/event"])?.as_str() {
        "conversation.status" => {
            let status = text_at(payload, &["/status"])?;
            let until = payload
                .pointer("/snoozed_until")
                .and_then(Value::as_i64)
                .map(|ms| d.zone.label(ms, d.now_ms))
                .unwrap_or_default();
            i18n::text(d.lang, &format!("state.line.{status}")).replace("{until}", &until)
        }
        "conversation.priority" => {
            let p = text_at(payload, &["/priority"])?;
            let p = i18n::text(d.lang, &format!("priority.{p}"));
            i18n::text(d.lang, "state.line.priority").replace("{priority}", &p)
        }
        _ => return None,
    };
    Some(words.replace("{name}", &name))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(kind: &str, body: Option<&str>, payload: &str) -> Message {
        Message {
            id: "m1".into(),
            clinic_id: "c".into(),
            conversation_id: "cv".into(),
            channel_id: "ch".into(),
            direction: "in".into(),
            kind: kind.into(),
            body: body.map(str::to_string),
            payload: payload.into(),
            sender_identity_id: None,
            author_kind: "patient".into(),
            author_staff_id: None,
            provider_message_id: None,
            status: "received".into(),
            failure_code: None,
            failure_reason: None,
            unsent_at: None,
            created_at: 0,
            sent_at: None,
        }
    }

    fn view(m: &Message) -> MessageView {
        view_in(m, "ja")
    }

    fn view_in(m: &Message, lang: &str) -> MessageView {
        let empty = HashMap::new();
        let d = Decorations {
            lang,
            zone: Zone::of(&tsunagu_store::clinics::Clinic {
                id: "c".into(),
                organization_id: "o".into(),
                slug: "s".into(),
                name: "n".into(),
                timezone: "Asia/Tokyo".into(),
                locale: "ja-JP".into(),
                require_2fa: 1,
                created_at: 0,
            }),
            now_ms: 0,
            group: false,
            attachments: &[],
            senders: &empty,
            staff: &empty,
        };
        message_view(m, &d)
    }

    #[test]
    fn a_location_links_to_a_map_at_its_coordinates() {
        let v = view(&msg(
            "location",
            Some("院"),
            r#"{"type":"location","title":"さくら内科","address":"東京都","latitude":35.68,"longitude":139.76}"#,
        ));
        let loc = v.location.unwrap_or_else(|| panic!("no location"));
        assert_eq!(loc.title, "さくら内科");
        assert!(loc.map_href.ends_with("query=35.680000,139.760000"));
    }

    #[test]
    fn a_sticker_keeps_its_ids_and_an_unknown_kind_is_marked() {
        assert_eq!(
            view(&msg(
                "sticker",
                None,
                r#"{"packageId":"446","stickerId":"1988"}"#
            ))
            .sticker,
            Some(("446".into(), "1988".into()))
        );
        assert_eq!(view(&msg("beacon", None, "{}")).kind, "unknown");
    }

    #[test]
    fn every_system_line_reads_as_a_sentence_in_both_languages_and_never_as_its_code() {
        for lang in ["ja", "en"] {
            for &e in SYSTEM_EVENTS {
                let mut m = msg("event", Some(e), &format!(r#"{{"event":"{e}"}}"#));
                m.direction = "system".into();
                let d = view_in(&m, lang);
                let text = d.text.unwrap_or_default();
                assert_eq!(d.kind, "system");
                // English words may say "unblocked"; a Japanese screen never shows the code.
                assert!(!text.is_empty() && text != e, "{lang} {e}: {text}");
                assert!(lang == "en" || !text.contains(e), "{lang} {e}: {text}");
                assert_ne!(text, format!("msg.event.{e}"));
                let words = i18n::text(lang, &format!("msg.event.{e}"));
                assert!(!words.starts_with("msg.event."), "{lang}: no words for {e}");
            }
        }
        // WhatsApp names its system message's type inside the message; its English body is not
        // shown.
        let wa = msg(
            "event",
            Some("User A changed from +1 to +2"),
            r#"{"type":"system","message":{"system":{"type":"user_changed_number"}}}"#,
        );
        assert_eq!(
            view(&wa).text,
            Some(i18n::text("ja", "msg.event.user_changed_number"))
        );
        // An event nobody listed reads as the general sentence, not as its code.
        let odd = view(&msg("event", Some("beaconed"), r#"{"event":"beaconed"}"#));
        assert_eq!(odd.text, Some(i18n::text("ja", "msg.event.other")));
    }

    #[test]
    fn an_unsent_message_is_a_tombstone() {
        let mut m = msg("text", None, "{}");
        m.unsent_at = Some(1);
        assert_eq!(view(&m).kind, "unsent");
    }

    #[test]
    fn only_failed_or_doubtful_replies_offer_a_retry() {
        let mut m = msg("text", Some("はい"), "{}");
        m.direction = "out".into();
        m.author_kind = "staff".into();
        m.status = "failed".into();
        m.failure_reason = Some("429".into());
        let v = view(&m);
        assert!(v.retryable);
        assert_eq!(
            v.failure_reason.as_deref(),
            Some("送信できませんでした。時間をおいて再送してください。")
        );
        m.status = "sent".into();
        assert!(!view(&m).retryable);
    }

    #[test]
    fn a_failed_send_reads_in_the_staff_s_language_never_as_stored_english_or_a_number() {
        let mut m = msg("text", Some("はい"), "{}");
        m.direction = "out".into();
        m.status = "failed".into();
        m.failure_code = Some("recipient_opted_out".into());
        m.failure_reason = Some("Twilio 21610: unsubscribed recipient".into());
        let v = view(&m);
        assert_eq!(
            v.failure_reason,
            Some(i18n::code("ja", Code::RecipientOptedOut))
        );
        // The outbox's own refusal, stored with its English detail.
        m.failure_code = Some("channel_disabled".into());
        m.failure_reason = Some("the channel is disabled".into());
        let v = view(&m);
        assert_eq!(
            v.failure_reason.as_deref(),
            Some("このチャネルは停止中のため送信できません。")
        );
        // A provider's own number is not one of our codes: the provider refused it.
        m.failure_code = Some("131026".into());
        m.failure_reason = Some("Message undeliverable".into());
        let v = view(&m);
        assert_eq!(
            v.failure_reason,
            Some(i18n::code("ja", Code::RejectedByProvider))
        );
    }
}
