//! `whatsapp::events::parse` over every pywa sample and Meta webhook example.
#![allow(clippy::unwrap_used, clippy::expect_used)]
use std::path::PathBuf;

use serde_json::{json, Value};
use tsunagu_channels::whatsapp::events::{self, Message, Status, StatusKind, WebhookBody};
use tsunagu_channels::whatsapp::{status_rank, status_should_apply, Content};

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/whatsapp")
}

fn json_in(dir: &str) -> Vec<PathBuf> {
    let mut out: Vec<_> = std::fs::read_dir(fixtures().join(dir))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().and_then(|e| e.to_str()) == Some("json"))
        .collect();
    out.sort();
    out
}

/// Every webhook body in the fixtures: (name, body). pywa files map case names to bodies.
fn all_bodies() -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for path in json_in("pywa/updates") {
        let file: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        for (case, body) in file.as_object().unwrap() {
            out.push((format!("{}:{case}", path.display()), body.clone()));
        }
    }
    for path in json_in("meta-webhooks") {
        let body = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        out.push((path.display().to_string(), body));
    }
    let signed = fixtures().join("signature/pywa_real_text_message.body");
    let body = serde_json::from_slice(&std::fs::read(&signed).unwrap()).unwrap();
    out.push((signed.display().to_string(), body));
    out
}

fn pywa(file: &str, case: &str) -> WebhookBody {
    let path = fixtures().join("pywa/updates").join(file);
    let all: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    events::parse(&serde_json::to_vec(&all[case]).unwrap()).unwrap()
}

fn meta(file: &str) -> WebhookBody {
    let path = fixtures().join("meta-webhooks").join(file);
    events::parse(&std::fs::read(path).unwrap()).unwrap()
}

fn msg(body: WebhookBody) -> Message {
    assert_eq!(body.messages.len(), 1, "{body:?}");
    body.messages.into_iter().next().unwrap()
}

fn status(body: WebhookBody) -> Status {
    assert_eq!(body.statuses.len(), 1, "{body:?}");
    body.statuses.into_iter().next().unwrap()
}

/// Items of the `messages` field, counted in the raw JSON.
fn raw_counts(body: &Value) -> (usize, usize) {
    let (mut m, mut s) = (0, 0);
    for entry in body["entry"].as_array().unwrap() {
        for change in entry["changes"].as_array().unwrap() {
            if change["field"] == "messages" {
                m += change["value"]["messages"].as_array().map_or(0, Vec::len);
                s += change["value"]["statuses"].as_array().map_or(0, Vec::len);
            }
        }
    }
    (m, s)
}

#[test]
fn every_sample_parses_and_no_message_or_status_is_dropped() {
    let bodies = all_bodies();
    // 74 pywa cases in 19 files + 16 Meta examples + the signed delivery.
    assert_eq!(bodies.len(), 91);
    let (mut messages, mut statuses) = (0, 0);
    for (name, raw) in &bodies {
        let parsed = events::parse(&serde_json::to_vec(raw).unwrap())
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(parsed.object.as_deref(), Some("whatsapp_business_account"));
        assert_eq!(
            (parsed.messages.len(), parsed.statuses.len()),
            raw_counts(raw),
            "{name}"
        );
        for m in &parsed.messages {
            assert!(
                !m.phone_number_id.is_empty() && !m.wamid.is_empty(),
                "{name}"
            );
            assert_eq!(m.raw["id"].as_str(), Some(m.wamid.as_str()), "{name}");
        }
        for o in &parsed.others {
            assert_ne!(o.field.as_deref(), Some("messages"), "{name}: {o:?}");
        }
        messages += parsed.messages.len();
        statuses += parsed.statuses.len();
    }
    assert!(messages >= 50 && statuses >= 7, "{messages} {statuses}");
}

#[test]
fn text_keeps_ids_sender_profile_and_raw() {
    let m = msg(pywa("message.json", "text"));
    assert_eq!(m.wamid, "wamid.xyzxyz");
    assert_eq!(m.from, "972987654321");
    assert_eq!(m.phone_number_id, "1122334455667");
    assert_eq!(m.display_phone_number.as_deref(), Some("972123456789"));
    assert_eq!(m.waba_id, "1234567890987654321");
    assert_eq!(m.profile_name.as_deref(), Some("Test Name"));
    assert_eq!(m.timestamp, 1_697_043_223);
    assert_eq!(m.kind, "text");
    let body = "Body Text".to_owned();
    assert_eq!(m.content, Content::Text { body });
    assert_eq!(m.raw["text"]["body"], "Body Text");

    let m = msg(meta("text_message.json"));
    assert_eq!(m.phone_number_id, "106540352242922");
    assert_eq!(m.profile_name.as_deref(), Some("Sheena Nelson"));
    assert!(
        matches!(m.content, Content::Text { ref body } if body == "Does it come in another color?")
    );
}

#[test]
fn media_location_contacts_order_and_reactions() {
    let m = msg(pywa("message.json", "image"));
    assert!(
        matches!(&m.content, Content::Media { media_id: Some(id), mime_type: Some(mt), .. }
        if id == "65463453" && mt == "image/jpeg")
    );
    let m = msg(pywa("message.json", "voice"));
    assert!(matches!(m.content, Content::Media { voice: true, .. }));
    for case in [
        "video",
        "document",
        "audio",
        "static_sticker",
        "animated_sticker",
    ] {
        let m = msg(pywa("message.json", case));
        assert!(
            matches!(
                m.content,
                Content::Media {
                    media_id: Some(_),
                    ..
                }
            ),
            "{case}"
        );
    }
    let m = msg(pywa("message.json", "current_location"));
    assert!(matches!(m.content, Content::Location { latitude: Some(la), .. } if la == 12.25089));
    let m = msg(meta("contact_sharing_message.json"));
    assert!(matches!(&m.content, Content::Contacts { contacts } if !contacts.is_empty()));
    let m = msg(meta("order_message.json"));
    assert!(
        matches!(&m.content, Content::Order { items: 2, catalog_id: Some(c), .. }
        if c == "194836987003835")
    );
    let m = msg(pywa("message.json", "reaction"));
    assert!(matches!(
        &m.content,
        Content::Reaction { emoji: Some(_), .. }
    ));
    for case in ["unreaction_empty", "unreaction_no_emoji"] {
        let m = msg(pywa("message.json", case));
        assert!(
            matches!(&m.content, Content::Reaction { emoji: None, .. }),
            "{case}"
        );
    }
}

#[test]
fn buttons_interactive_replies_system_and_unsupported() {
    let m = msg(pywa("callback_button.json", "quick_reply"));
    assert_eq!(m.context_id.as_deref(), Some("wamid.xyzxyz=="));
    let expected = Content::Button {
        payload: Some("callback_data".into()),
        text: Some("title".into()),
    };
    assert_eq!(m.content, expected);
    let m = msg(meta("interactive_button_reply_message.json"));
    assert!(matches!(&m.content, Content::ButtonReply { id, .. } if id == "cancel-button"));
    let m = msg(meta("interactive_list_reply_message.json"));
    assert!(
        matches!(&m.content, Content::ListReply { id, description: Some(_), .. }
        if id == "priority_express")
    );
    let m = msg(pywa("flow_completion.json", "completion"));
    assert!(matches!(&m.content, Content::Interactive { subtype: Some(t) } if t == "nfm_reply"));
    let m = msg(meta("system_message.json"));
    assert!(
        matches!(&m.content, Content::System { new_wa_id: Some(w), system_type: Some(t), .. }
        if w == "12195555358" && t == "user_changed_number")
    );
    let m = msg(pywa("message.json", "unsupported_with_type"));
    assert!(
        matches!(&m.content, Content::Unsupported { unsupported_type: Some(t) } if t == "pool")
    );
    assert_eq!(m.errors[0].code, Some(131_051));
}

#[test]
fn edits_and_deletions_point_at_the_original() {
    let m = msg(pywa("edited_message.json", "image"));
    assert!(
        matches!(&m.content, Content::Edit { original_message_id, body: Some(b) }
        if original_message_id.starts_with("wamid.") && b == "Updated image caption")
    );
    let m = msg(pywa("deleted_message.json", "revoke"));
    let original_message_id = "<ORIGINAL_WHATSAPP_MESSAGE_ID>".to_owned();
    assert_eq!(
        m.content,
        Content::Revoke {
            original_message_id
        }
    );
}

#[test]
fn statuses_keep_errors_and_unknown_kinds() {
    let s = status(pywa("message_status.json", "failed"));
    assert_eq!(s.status, StatusKind::Failed);
    assert_eq!(s.wamid, "wamid.xyzxyz");
    assert_eq!(s.recipient_id.as_deref(), Some("972987654321"));
    assert_eq!(s.timestamp, 1_689_380_458);
    assert_eq!(s.errors[0].code, Some(130_472));
    assert!(s.errors[0].title.is_some() && s.errors[0].details.is_some());
    for (case, kind) in [
        ("sent", StatusKind::Sent),
        ("delivered", StatusKind::Delivered),
    ] {
        assert_eq!(status(pywa("message_status.json", case)).status, kind);
    }
    let s = status(pywa("message_status.json", "played"));
    assert_eq!(s.status, StatusKind::Other("played".into()));
    assert!(s.raw.get("pricing").is_some());
    // Call statuses (field `calls`) are not message statuses: kept raw.
    let body = pywa("call_status.json", "call_status");
    assert!(body.statuses.is_empty());
    assert_eq!(body.others[0].field.as_deref(), Some("calls"));
}

#[test]
fn a_status_never_moves_backwards_and_failed_is_terminal() {
    use StatusKind::*;
    assert!(status_rank(&Read) > status_rank(&Delivered));
    assert!(status_rank(&Delivered) > status_rank(&Sent));
    assert!(status_should_apply(None, &Sent));
    assert!(status_should_apply(Some(&Sent), &Read));
    assert!(status_should_apply(Some(&Delivered), &Failed));
    assert!(!status_should_apply(Some(&Read), &Delivered));
    assert!(!status_should_apply(Some(&Read), &Read));
    assert!(!status_should_apply(Some(&Failed), &Read));
    assert!(!status_should_apply(Some(&Sent), &Other("played".into())));
    assert!(!status_should_apply(None, &Other("x".into())));
}

#[test]
fn odd_items_are_kept_and_never_fail_the_body() {
    let meta = json!({"display_phone_number": "1", "phone_number_id": "PN"});
    let body = json!({"object": "whatsapp_business_account", "entry": [
        {"id": "W", "changes": [{"field": "messages", "value": {"metadata": meta, "messages": [
            {"from": "1", "id": "wamid.a", "timestamp": "5", "type": "hologram", "hologram": {}},
            {"from": "1", "timestamp": "5", "type": "text", "text": {"body": "no id"}},
            {"from": "1", "id": "wamid.b", "timestamp": 6, "type": "text"}
        ], "statuses": [{"id": "wamid.c", "status": "sent"}]}}]},
        {"id": "W2"},
        {"id": "W", "changes": [{"field": "message_template_status_update", "value": {}}]}
    ]});
    let parsed = events::parse(&serde_json::to_vec(&body).unwrap()).unwrap();
    assert_eq!(parsed.messages.len(), 2);
    assert_eq!(parsed.messages[0].kind, "hologram");
    assert_eq!(parsed.messages[0].content, Content::Unknown);
    assert_eq!(parsed.messages[0].raw["hologram"], json!({}));
    assert_eq!(
        (parsed.messages[1].timestamp, &parsed.messages[1].content),
        (6, &Content::Unknown)
    );
    assert!(parsed.statuses.is_empty());
    assert_eq!(parsed.others.len(), 4);
    assert_eq!(parsed.others[0].phone_number_id.as_deref(), Some("PN"));
}

#[test]
fn only_non_bodies_are_refused() {
    assert!(events::parse(b"not json").is_err());
    assert!(events::parse(b"{\"object\":\"page\"}").is_err());
    assert!(events::parse(b"[]").is_err());
    assert!(events::parse(b"{\"entry\":[]}")
        .unwrap()
        .messages
        .is_empty());
}

// Through the adapter: the items the one ingest path stores.
mod through_the_adapter {
    use serde_json::{json, Value};
    use tsunagu_channels::provider::inbound::{
        Delivered, Item, Profile, Thread, Unreachable, What,
    };
    use tsunagu_channels::provider::{Credentials, Endpoint, Receive, WebhookRequest};
    use tsunagu_channels::whatsapp::{WhatsApp, WhatsAppSecrets};

    use super::all_bodies;

    const NOW: i64 = 1_800_000_000_000;

    fn items(body: &Value) -> Vec<Item> {
        let headers = http::HeaderMap::new();
        let raw = serde_json::to_vec(body).unwrap();
        let req = WebhookRequest {
            headers: &headers,
            body: &raw,
            url: "https://clinic.example/webhooks/whatsapp/c",
            endpoint: Endpoint::Events,
        };
        WhatsApp.parse(&req, NOW).unwrap()
    }

    fn change(value: Value) -> Value {
        let mut value = value;
        value["metadata"] = json!({"display_phone_number": "81", "phone_number_id": "PN1"});
        json!({"object": "whatsapp_business_account",
            "entry": [{"id": "WABA", "changes": [{"field": "messages", "value": value}]}]})
    }

    fn one(value: Value) -> Item {
        let mut all = items(&change(value));
        assert_eq!(all.len(), 1, "{all:?}");
        all.remove(0)
    }

    #[test]
    fn every_sample_keeps_every_message_status_and_change_as_an_item() {
        for (name, body) in all_bodies() {
            let raw = serde_json::to_vec(&body).unwrap();
            let parsed = tsunagu_channels::whatsapp::events::parse(&raw).unwrap();
            let all = items(&body);
            let expected = parsed.messages.len() + parsed.statuses.len() + parsed.others.len();
            assert_eq!(all.len(), expected, "{name}");
            for (item, m) in all.iter().zip(&parsed.messages) {
                assert_eq!(item.event.key, m.wamid, "{name}");
                assert_eq!(
                    item.to.as_ref().map(|a| a.id.as_str()),
                    Some(m.phone_number_id.as_str())
                );
            }
        }
    }

    #[test]
    fn a_text_names_the_patient_and_is_addressed_to_its_number() {
        let item = one(json!({
            "contacts": [{"wa_id": "8190", "profile": {"name": "山田"}}],
            "messages": [{"from": "8190", "id": "wamid.1", "timestamp": "1700000000",
                "type": "text", "text": {"body": "予約したいです"}}]}));
        assert_eq!(
            (item.event.key.as_str(), item.event.kind.as_str()),
            ("wamid.1", "message")
        );
        assert_eq!(item.event.sender.as_deref(), Some("8190"));
        let stored: Value = serde_json::from_str(&item.event.body).unwrap();
        assert_eq!(stored["phone_number_id"], "PN1");
        assert_eq!(item.to.unwrap().id, "PN1");
        let What::Message(m) = item.what else {
            panic!()
        };
        assert_eq!(
            m.thread,
            Thread::Direct {
                from: "8190".into()
            }
        );
        assert_eq!(m.profile, Profile::Given("山田".into()));
        assert_eq!(
            (m.kind.as_str(), m.body.as_deref()),
            ("text", Some("予約したいです"))
        );
        assert_eq!(m.at_ms, 1_700_000_000_000);
        assert!(m.dispatch && m.reachable && m.reply.is_none());
    }

    #[test]
    fn media_is_fetched_by_id_and_reactions_are_not_dispatched() {
        let image = one(
            json!({"messages": [{"from": "8190", "id": "wamid.2", "timestamp": "1",
            "type": "image", "image": {"id": "MEDIA1", "mime_type": "image/jpeg", "caption": "腫れ"}}]}),
        );
        let What::Message(m) = image.what else {
            panic!()
        };
        assert_eq!(
            m.media,
            Some(json!({"media_id": "MEDIA1", "mime_type": "image/jpeg"}))
        );
        assert_eq!(
            (m.kind.as_str(), m.body.as_deref()),
            ("image", Some("腫れ"))
        );
        assert_eq!(m.profile, Profile::Unknown);
        let reaction = one(
            json!({"messages": [{"from": "8190", "id": "wamid.3", "timestamp": "1",
            "type": "reaction", "reaction": {"message_id": "wamid.2", "emoji": ""}}]}),
        );
        let What::Message(m) = reaction.what else {
            panic!()
        };
        assert_eq!(m.body.as_deref(), Some("(reaction removed)"));
        assert!(!m.dispatch);
    }

    #[test]
    fn edits_and_revokes_change_the_earlier_message() {
        let edit = one(
            json!({"messages": [{"from": "8190", "id": "wamid.4", "timestamp": "2",
            "type": "edit", "edit": {"original_message_id": "wamid.1",
                "message": {"type": "text", "text": {"body": "直しました"}}}}]}),
        );
        let What::Edit(e) = edit.what else { panic!() };
        assert_eq!(
            (e.provider_message_id.as_str(), e.body.as_deref()),
            ("wamid.1", Some("直しました"))
        );
        assert_eq!((e.thread.as_str(), e.at_ms), ("8190", 2000));
        let revoke = one(
            json!({"messages": [{"from": "8190", "id": "wamid.5", "timestamp": "3",
            "type": "revoke", "revoke": {"original_message_id": "wamid.1"}}]}),
        );
        let What::Unsend(u) = revoke.what else {
            panic!()
        };
        assert_eq!(
            (u.provider_message_id.as_str(), u.thread.as_str()),
            ("wamid.1", "8190")
        );
    }

    #[test]
    fn statuses_name_our_message_and_an_undeliverable_number_bounces() {
        let failed = one(json!({"statuses": [{"id": "wamid.9", "status": "failed",
            "timestamp": "1700000001", "recipient_id": "8190", "biz_opaque_callback_data": "ours",
            "errors": [{"code": 131026, "title": "Message undeliverable"}]}]}));
        assert_eq!(failed.event.key, "wamid.9:failed");
        assert_eq!(failed.event.sender.as_deref(), Some("8190"));
        let What::Status(s) = failed.what else {
            panic!()
        };
        assert_eq!(
            (s.state, s.ours.as_deref()),
            (Delivered::Failed, Some("ours"))
        );
        assert_eq!(s.failure_code.as_deref(), Some("131026"));
        assert_eq!(s.at_ms, 1_700_000_001_000);
        assert_eq!(
            s.unreachable,
            Some(Unreachable::Bounced {
                reason: "Message undeliverable".into()
            })
        );
        let other_failure = one(json!({"statuses": [{"id": "wamid.9", "status": "failed",
            "timestamp": "1", "errors": [{"code": 130472}]}]}));
        let What::Status(s) = other_failure.what else {
            panic!()
        };
        assert_eq!(s.unreachable, None);
        let played =
            one(json!({"statuses": [{"id": "wamid.9", "status": "played", "timestamp": "1"}]}));
        assert!(matches!(played.what, What::Record));
        assert_eq!(played.event.key, "wamid.9:played");
    }

    #[test]
    fn a_template_review_asks_for_a_sync_and_other_changes_are_kept_raw_by_content() {
        let review = json!({"object": "whatsapp_business_account", "entry": [{"id": "WABA",
            "changes": [{"field": "message_template_status_update",
                "value": {"event": "APPROVED", "message_template_id": 1}}]}]});
        let all = items(&review);
        assert!(matches!(all[0].what, What::TemplateReview));
        assert!(
            all[0].to.is_none(),
            "the whole account: served by every channel of it"
        );
        assert!(all[0]
            .event
            .key
            .starts_with("other:message_template_status_update:"));
        assert_eq!(
            all[0].event.key,
            items(&review)[0].event.key,
            "a redelivery dedupes"
        );
        let calls = items(
            &json!({"object": "whatsapp_business_account", "entry": [{"id": "WABA",
            "changes": [{"field": "calls", "value": {}}]}]}),
        );
        assert!(matches!(calls[0].what, What::Record));
        assert_eq!(calls[0].event.kind, "calls");
    }

    #[test]
    fn the_handshake_echoes_the_challenge_only_for_the_verify_token() {
        let creds = Credentials::WhatsApp(WhatsAppSecrets {
            app_secret: "s".into(),
            verify_token: "tok".into(),
            access_token: "a".into(),
        });
        let q = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        };
        let ok = q(&[
            ("hub.mode", "subscribe"),
            ("hub.verify_token", "tok"),
            ("hub.challenge", "42"),
        ]);
        assert_eq!(WhatsApp.handshake(&creds, &ok), Some("42".into()));
        let bad = q(&[
            ("hub.mode", "subscribe"),
            ("hub.verify_token", "no"),
            ("hub.challenge", "42"),
        ]);
        assert_eq!(WhatsApp.handshake(&creds, &bad), None);
        assert!(WhatsApp.routes().handshake && !WhatsApp.routes().status_callback);
    }
}
