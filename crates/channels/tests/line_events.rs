//! `events::parse` over every official SDK sample: nothing is lost, odd events never fail a body.
#![allow(clippy::unwrap_used, clippy::expect_used)]
use std::path::{Path, PathBuf};

use serde_json::json;
use tsunagu_channels::line::events::{
    self, Event, EventDetail, InboundMessage, Source, WebhookBody,
};

fn samples() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/line/sdk-samples")
}

fn json_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            json_files(&path, out);
        } else if path.extension().and_then(|e| e.to_str()) == Some("json") {
            out.push(path);
        }
    }
}

fn parse(rel: &str) -> WebhookBody {
    events::parse(&std::fs::read(samples().join(rel)).unwrap()).unwrap()
}

fn one(rel: &str) -> Event {
    let body = parse(rel);
    assert_eq!(body.events.len(), 1, "{rel}");
    body.events.into_iter().next().unwrap()
}

fn message(e: &Event) -> &InboundMessage {
    match &e.detail {
        EventDetail::Message(m) => m,
        other => panic!("expected a message, got {other:?}"),
    }
}

#[test]
fn every_sample_file_parses_or_is_refused_as_not_a_webhook() {
    let mut files = Vec::new();
    json_files(&samples(), &mut files);
    files.sort();
    let (mut bodies, mut flex, mut events) = (0, 0, 0);
    for path in &files {
        let raw = std::fs::read(path).unwrap();
        let value: serde_json::Value = serde_json::from_slice(&raw).unwrap();
        match events::parse(&raw) {
            Ok(body) => {
                bodies += 1;
                events += body.events.len();
                // Nothing lost: every event keeps its object exactly, in order.
                let raws: Vec<_> = body.events.iter().map(|e| e.raw.clone()).collect();
                assert_eq!(json!(raws), value["events"], "{}", path.display());
                for e in &body.events {
                    assert!(!e.webhook_event_id.is_empty());
                    assert_eq!(Some(e.kind.as_str()), e.raw["type"].as_str());
                }
            }
            // The flex samples are message contents, not webhook bodies.
            Err(_) => {
                assert!(
                    path.to_string_lossy().contains("/flex/"),
                    "{} failed to parse",
                    path.display()
                );
                flex += 1;
            }
        }
    }
    // go 1 + java callback 27 + java parser/spring 3 + python 2 bodies; 13 flex samples.
    assert_eq!((bodies, flex), (33, 13));
    // go 32; java callback 26 single-event files + unknown.json's 2; parser 2, spring 1 + 2; python 27 + 28.
    assert_eq!(events, 32 + (26 + 2) + (2 + 1 + 2) + (27 + 28));
}

#[test]
fn sample_bodies_have_the_expected_counts_and_destinations() {
    assert_eq!(parse("sdk-python/webhook.v3.json").events.len(), 28);
    assert_eq!(parse("sdk-python/webhook.legacy.json").events.len(), 27);
    let go = parse("sdk-go/webhook_test_request_body.json");
    assert_eq!((go.events.len(), go.destination), (32, None));
    assert_eq!(
        parse("sdk-python/webhook.v3.json").destination.as_deref(),
        Some("U123")
    );
}

#[test]
fn a_text_message_from_a_user() {
    let e = one("sdk-java/callback/text-user.json");
    assert_eq!(
        (e.kind.as_str(), e.mode.as_deref(), e.timestamp_ms),
        ("message", Some("active"), 1462629479859)
    );
    assert_eq!(
        e.reply_token.as_deref(),
        Some("nHuyWiB7yP5Zw52FIkcQobQuGDXCTA")
    );
    let src = e.source.clone().unwrap();
    assert_eq!(
        src,
        Source::User {
            user_id: "u206d25c2ea6bd87c17655609a1c37cb8".into()
        }
    );
    assert_eq!(src.thread_key(), Some("u206d25c2ea6bd87c17655609a1c37cb8"));
    let m = message(&e);
    assert_eq!(
        (m.id.as_str(), m.kind.as_str(), m.text.as_deref()),
        ("325708", "text", Some("Hello, world"))
    );
    assert!(!m.content_provider_line);
}

#[test]
fn an_event_without_webhook_event_id_gets_a_deterministic_hash_id() {
    let a = one("sdk-java/callback/text-user.json");
    let b = one("sdk-java/callback/text-user.json");
    assert!(a.webhook_event_id.starts_with("sha256:"));
    assert_eq!(a.webhook_event_id.len(), "sha256:".len() + 64);
    assert_eq!(a.webhook_event_id, b.webhook_event_id);
    assert_ne!(
        a.webhook_event_id,
        one("sdk-java/callback/follow.json").webhook_event_id
    );
    let v3 = parse("sdk-python/webhook.v3.json");
    assert_eq!(v3.events[0].webhook_event_id, "testwebhookeventid");
}

#[test]
fn images_know_whether_line_hosts_them() {
    let external = one("sdk-java/callback/image.json");
    assert!(!message(&external).content_provider_line);
    let v3 = parse("sdk-python/webhook.v3.json");
    let hosted = v3
        .events
        .iter()
        .find(|e| e.raw["message"]["id"] == "354718705033693861")
        .unwrap();
    assert!(message(hosted).content_provider_line);
    let file = one("sdk-java/callback/file.json");
    let m = message(&file);
    assert!(m.content_provider_line);
    assert_eq!(
        (m.file_name.as_deref(), m.file_size, m.text.as_deref()),
        (Some("sample.pdf"), Some(22016), Some("sample.pdf"))
    );
}

#[test]
fn stickers_and_locations_get_a_readable_text() {
    let sticker = one("sdk-java/callback/sticker.json");
    let m = message(&sticker);
    assert_eq!(m.sticker, Some(("1".into(), "1".into())));
    assert_eq!(m.text.as_deref(), Some("[sticker 1/1]"));

    let location = one("sdk-java/callback/location.json");
    let m = message(&location);
    let (title, address, lat, lon) = m.location.clone().unwrap();
    assert_eq!(title, "hello");
    assert!(address.contains("東京都渋谷区"));
    assert!((lat - 35.65910807942215).abs() < 1e-9 && (lon - 139.70372892916203).abs() < 1e-9);
    assert_eq!(
        m.text.as_deref(),
        Some(format!("hello\n{address}").as_str())
    );
}

#[test]
fn follow_unfollow_postback_and_unsend() {
    assert_eq!(
        one("sdk-java/callback/follow.json").detail,
        EventDetail::Follow {
            is_unblocked: false
        }
    );
    let v3 = parse("sdk-python/webhook.v3.json");
    assert_eq!(
        v3.events[6].detail,
        EventDetail::Follow { is_unblocked: true }
    );
    assert_eq!(
        one("sdk-java/callback/unfollow.json").detail,
        EventDetail::Unfollow
    );
    assert_eq!(
        v3.events[10].detail,
        EventDetail::Postback {
            data: "action=buyItem&itemId=123123&color=red".into(),
            params: json!({"datetime": "2017-12-25T01:00"})
        }
    );
    let plain = parse("sdk-go/webhook_test_request_body.json")
        .events
        .remove(16);
    assert_eq!(
        plain.detail,
        EventDetail::Postback {
            data: "action=buyItem&itemId=123123&color=red".into(),
            params: serde_json::Value::Null
        }
    );
    assert_eq!(
        one("sdk-java/callback/unsend.json").detail,
        EventDetail::Unsend {
            message_id: "325708".into()
        }
    );
}

#[test]
fn group_and_room_sources() {
    let group = one("sdk-java/callback/text-group.json");
    let src = group.source.clone().unwrap();
    assert_eq!(
        src,
        Source::Group {
            group_id: "u206d25c2ea6bd87c17655609a1c37cb8".into(),
            user_id: None
        }
    );
    assert_eq!(
        (src.thread_key(), src.sender_user_id()),
        (Some("u206d25c2ea6bd87c17655609a1c37cb8"), None)
    );
    assert_eq!(group.mode.as_deref(), Some("standby"));

    let v3 = parse("sdk-python/webhook.v3.json");
    let room = v3.events[15].source.clone().unwrap();
    assert_eq!(room.thread_key(), Some("Ra8dbf4673c4c812cd491258042226c99"));
    assert!(matches!(
        room,
        Source::Room {
            user_id: Some(_),
            ..
        }
    ));
    let group_member = v3.events[14].source.clone().unwrap();
    assert_eq!(
        group_member.thread_key(),
        Some("Ca56f94637cc4347f90a25382909b24b9")
    );
    assert_eq!(
        group_member.sender_user_id(),
        Some("U206d25c2ea6bd87c17655609a1c37cb8")
    );
}

#[test]
fn members_joining_and_leaving() {
    let joined = one("sdk-java/callback/member_joined.json");
    assert_eq!(
        joined.detail,
        EventDetail::MemberJoined {
            user_ids: vec!["U111111".into()]
        }
    );
    assert_eq!(joined.source.unwrap().thread_key(), Some("C1234567890"));
    let v3 = parse("sdk-python/webhook.v3.json");
    assert!(
        matches!(&v3.events[19].detail, EventDetail::MemberJoined { user_ids } if user_ids.len() == 2)
    );
    assert!(
        matches!(&v3.events[20].detail, EventDetail::MemberLeft { user_ids } if user_ids.len() == 2)
    );
    assert_eq!(one("sdk-java/callback/join.json").detail, EventDetail::Join);
    assert_eq!(
        one("sdk-java/callback/leave.json").detail,
        EventDetail::Leave
    );
}

#[test]
fn unknown_event_source_and_message_types_are_kept_not_rejected() {
    let body = parse("sdk-java/callback/unknown.json");
    assert_eq!(body.events.len(), 2);
    let (feature, odd) = (&body.events[0], &body.events[1]);
    assert_eq!(
        (feature.kind.as_str(), &feature.detail),
        ("greatNewFeature", &EventDetail::Other)
    );
    assert_eq!(
        odd.source,
        Some(Source::Unknown {
            kind: "unknownunknownuknown".into()
        })
    );
    assert_eq!(odd.source.as_ref().unwrap().thread_key(), None);
    let m = message(odd);
    assert_eq!(
        (m.kind.as_str(), m.text.as_deref()),
        ("unknownunknownuknown", None)
    );
    assert_eq!(m.raw_message["unknown"], "blah blah");
    let edited = one("sdk-java/callback/message-edited.json");
    assert_eq!(
        (edited.kind.as_str(), edited.detail.clone()),
        ("messageEdited", EventDetail::Other)
    );
    assert_eq!(edited.raw["message"]["text"], "Hello, edited world");
}

#[test]
fn a_redelivered_event_is_flagged() {
    let e = one("sdk-java/callback/webhook-redelivery.json");
    assert!(e.is_redelivery);
    assert!(!one("sdk-java/callback/text-user.json").is_redelivery);
}

#[test]
fn one_odd_event_never_fails_the_body_but_malformed_json_does() {
    let body = br#"{"destination":"U1","events":[null, 7, {"type":"message"}, {"type":"follow","webhookEventId":"01H"}]}"#;
    let parsed = events::parse(body).unwrap();
    assert_eq!(parsed.events.len(), 4);
    assert!(parsed.events[..3]
        .iter()
        .all(|e| e.detail == EventDetail::Other && e.source.is_none()));
    assert_eq!(parsed.events[3].webhook_event_id, "01H");
    assert_eq!(
        events::parse(br#"{"destination":"U1","events":[]}"#)
            .unwrap()
            .events
            .len(),
        0
    );
    assert!(events::parse(b"{\"events\": [").is_err());
    assert!(events::parse(b"").is_err());
    assert!(events::parse(br#"{"type":"bubble"}"#).is_err());
}

// Through the adapter: the items the one ingest path stores.
mod through_the_adapter {
    use serde_json::{json, Value};
    use tsunagu_channels::line::Line;
    use tsunagu_channels::provider::inbound::{Follow, GroupKind, Item, Profile, Thread, What};
    use tsunagu_channels::provider::{Endpoint, Receive, WebhookRequest};

    use super::{json_files, samples};

    const NOW: i64 = 1_800_000_000_000;

    fn items(body: &[u8]) -> Vec<Item> {
        let headers = http::HeaderMap::new();
        let req = WebhookRequest {
            headers: &headers,
            body,
            url: "https://clinic.example/webhooks/line/c",
            endpoint: Endpoint::Events,
        };
        Line.parse(&req, NOW).unwrap()
    }

    fn one(event: Value) -> Item {
        let body = json!({"destination": "Ubot", "events": [event]}).to_string();
        let mut all = items(body.as_bytes());
        assert_eq!(all.len(), 1);
        all.remove(0)
    }

    fn line(item: &Item) -> &tsunagu_channels::provider::inbound::Message {
        match &item.what {
            What::Message(m) => m,
            other => panic!("expected a message, got {other:?}"),
        }
    }

    fn event(kind: &str, mode: &str, source: Value, extra: Value) -> Value {
        let mut e = json!({"type": kind, "mode": mode, "timestamp": 1_700_000_000_000i64,
            "webhookEventId": format!("ev-{kind}"), "source": source, "replyToken": "rt"});
        for (k, v) in extra.as_object().unwrap() {
            e[k] = v.clone();
        }
        e
    }

    fn user() -> Value {
        json!({"type": "user", "userId": "U1"})
    }

    #[test]
    fn every_sample_event_becomes_one_item_keyed_by_its_event_id() {
        let mut files = Vec::new();
        json_files(&samples(), &mut files);
        let mut total = 0;
        for path in files {
            let raw = std::fs::read(&path).unwrap();
            let Ok(body) = tsunagu_channels::line::events::parse(&raw) else {
                continue;
            };
            let all = items(&raw);
            assert_eq!(all.len(), body.events.len(), "{}", path.display());
            for (item, e) in all.iter().zip(&body.events) {
                assert_eq!(item.event.key, e.webhook_event_id);
                assert_eq!(item.event.kind, e.kind);
                assert_eq!(item.event.mode, e.mode);
                assert_eq!(
                    serde_json::from_str::<Value>(&item.event.body).unwrap(),
                    e.raw
                );
                assert!(item.to.is_none(), "LINE routes by channel, not address");
            }
            total += all.len();
        }
        assert!(total > 100, "{total}");
    }

    #[test]
    fn an_active_text_is_dispatched_with_its_reply_token_and_the_sender_fetched() {
        let text = json!({"message": {"id": "m1", "type": "text", "text": "こんにちは"}});
        let item = one(event("message", "active", user(), text));
        assert_eq!(item.event.sender.as_deref(), Some("U1"));
        let m = line(&item);
        assert_eq!(m.thread, Thread::Direct { from: "U1".into() });
        assert_eq!(
            (m.kind.as_str(), m.body.as_deref()),
            ("text", Some("こんにちは"))
        );
        assert_eq!(m.provider_message_id.as_deref(), Some("m1"));
        assert_eq!(
            (m.profile.clone(), m.fallback_name.as_str()),
            (Profile::Fetch, "LINE")
        );
        assert!(m.dispatch && !m.system && !m.reachable && m.media.is_none());
        let reply = m.reply.clone().unwrap();
        assert_eq!(
            (reply.token.as_deref(), reply.issued_at_ms),
            (Some("rt"), 1_700_000_000_000)
        );
        assert_eq!(m.at_ms, 1_700_000_000_000);
        assert_eq!(m.payload["message"]["text"], "こんにちは");
        assert_eq!(m.payload["mode"], "active");
    }

    #[test]
    fn a_standby_text_goes_to_the_dispatcher_for_triage_without_a_usable_token() {
        let text = json!({"message": {"id": "m5", "type": "text", "text": "胸が痛い"}});
        let item = one(event("message", "standby", user(), text));
        let m = line(&item);
        assert!(m.dispatch, "triage looks at every patient text");
        assert_eq!(m.reply.clone().unwrap().token, None);
    }

    #[test]
    fn a_standby_image_hosted_by_line_is_fetched_by_message_id_but_never_answered() {
        let image = json!({"message": {"id": "m2", "type": "image",
            "contentProvider": {"type": "line"}}});
        let item = one(event("message", "standby", user(), image));
        assert_eq!(item.event.mode.as_deref(), Some("standby"));
        let m = line(&item);
        assert_eq!(m.media, Some(json!({"message_id": "m2"})));
        // Its token is kept as unusable (the dispatcher reads it so), never handed out.
        let reply = m.reply.clone().unwrap();
        assert_eq!((reply.token, reply.issued_at_ms), (None, 1_700_000_000_000));
        assert!(!m.dispatch);
        let external = json!({"message": {"id": "m3", "type": "image",
            "contentProvider": {"type": "external", "originalContentUrl": "https://x/y.png"}}});
        assert!(line(&one(event("message", "active", user(), external)))
            .media
            .is_none());
        let odd = json!({"message": {"id": "m4", "type": "hologram"}});
        assert_eq!(
            line(&one(event("message", "active", user(), odd))).kind,
            "unsupported"
        );
    }

    #[test]
    fn groups_and_rooms_are_threads_of_their_own_with_the_member_who_spoke() {
        let group = json!({"type": "group", "groupId": "G1", "userId": "U2"});
        let text = json!({"message": {"id": "m5", "type": "text", "text": "x"}});
        let m = line(&one(event("message", "active", group, text.clone()))).clone();
        let thread = Thread::Group {
            kind: GroupKind::Group,
            id: "G1".into(),
            from: Some("U2".into()),
        };
        assert_eq!(m.thread, thread);
        assert_eq!((thread.key(), thread.sender()), ("G1", Some("U2")));
        let room = json!({"type": "room", "roomId": "R1"});
        let m = line(&one(event("message", "active", room, text))).clone();
        assert_eq!(m.thread.sender(), None);
        let join = one(event(
            "join",
            "active",
            json!({"type": "group", "groupId": "G1"}),
            json!({}),
        ));
        let m = line(&join);
        assert!(m.system && !m.dispatch);
        assert_eq!(
            (m.kind.as_str(), m.body.as_deref()),
            ("event", Some("join"))
        );
    }

    #[test]
    fn follow_unfollow_postback_and_unsend_mean_what_they_did() {
        let follow = one(event(
            "follow",
            "active",
            user(),
            json!({"follow": {"isUnblocked": true}}),
        ));
        let m = line(&follow);
        assert_eq!(
            (m.follow, m.body.as_deref()),
            (Some(Follow::Following), Some("unblocked"))
        );
        assert!(m.system && m.dispatch);
        assert_eq!(m.reply.as_ref().unwrap().token.as_deref(), Some("rt"));

        let unfollow = one(event("unfollow", "active", user(), json!({})));
        let m = line(&unfollow);
        assert_eq!(
            (m.follow, m.body.as_deref()),
            (Some(Follow::Blocked), Some("blocked"))
        );
        assert!(!m.dispatch && m.reply.is_none());
        // Nobody to mark: a group unfollow without a user is kept raw only.
        let nobody = one(event(
            "unfollow",
            "active",
            json!({"type": "group", "groupId": "G"}),
            json!({}),
        ));
        assert!(matches!(nobody.what, What::Record));

        let postback = one(event(
            "postback",
            "active",
            user(),
            json!({"postback": {"data": "action=reserve", "params": {"date": "2025-01-01"}}}),
        ));
        let m = line(&postback);
        assert_eq!(
            (m.kind.as_str(), m.body.as_deref()),
            ("postback", Some("action=reserve"))
        );
        assert_eq!(m.payload["params"]["date"], "2025-01-01");

        let unsend = one(event(
            "unsend",
            "active",
            user(),
            json!({"unsend": {"messageId": "m1"}}),
        ));
        let What::Unsend(u) = &unsend.what else {
            panic!("{unsend:?}")
        };
        assert_eq!(
            (u.provider_message_id.as_str(), u.thread.as_str()),
            ("m1", "U1")
        );
    }

    #[test]
    fn events_without_a_known_source_or_type_are_kept_raw_and_times_fall_back_to_now() {
        let beacon = one(event(
            "beacon",
            "active",
            user(),
            json!({"beacon": {"hwid": "1"}}),
        ));
        assert!(matches!(beacon.what, What::Record));
        let unknown = json!({"type": "message", "webhookEventId": "e", "timestamp": 0,
            "source": {"type": "spaceship"}, "message": {"id": "1", "type": "text", "text": "x"}});
        assert!(matches!(one(unknown).what, What::Record));
        let untimed = json!({"type": "message", "webhookEventId": "e2", "timestamp": 0,
            "source": {"type": "user", "userId": "U"}, "message": {"id": "1", "type": "text"}});
        assert_eq!(line(&one(untimed)).at_ms, NOW);
        assert!(items(br#"{"destination":"U","events":[]}"#).is_empty());
        let headers = http::HeaderMap::new();
        let bad = WebhookRequest {
            headers: &headers,
            body: b"{not json",
            url: "https://x/",
            endpoint: Endpoint::Events,
        };
        assert!(Line.parse(&bad, NOW).is_err());
    }
}
