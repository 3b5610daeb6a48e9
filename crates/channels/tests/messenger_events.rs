//! `messenger::events::parse` over Meta's documented webhook examples and the fbmessenger-api
//! samples: every item kind, echoes, Instagram, standby, unknown items and stable dedupe keys.
#![allow(clippy::unwrap_used, clippy::expect_used)]
use std::collections::HashSet;
use std::path::PathBuf;

use tsunagu_channels::messenger::events::{self, Event, EventKind, ReactionAction, WebhookBody};

fn fixture(name: &str) -> Vec<u8> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/messenger")
        .join(name);
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn parsed(name: &str) -> WebhookBody {
    events::parse(&fixture(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn only(name: &str) -> Event {
    let mut body = parsed(name);
    assert_eq!(body.events.len(), 1, "{name}");
    body.events.remove(0)
}

#[test]
fn a_text_message_keeps_ids_time_text_and_the_mid_as_dedupe_key() {
    let e = only("meta-docs/text.json");
    assert_eq!(e.page_id, "104927532236412");
    assert_eq!(e.sender_id, "7051846318273645");
    assert_eq!(e.recipient_id, "104927532236412");
    assert_eq!(e.user_id(), "7051846318273645");
    assert_eq!(e.timestamp_ms, 1_743_498_000_001);
    assert!(!e.instagram && !e.standby);
    let EventKind::Message {
        mid,
        text,
        is_echo,
        attachments,
        ..
    } = &e.kind
    else {
        panic!("not a message: {:?}", e.kind)
    };
    assert_eq!(text.as_deref(), Some("明日の予約を変更できますか？"));
    assert!(!is_echo && attachments.is_empty());
    assert_eq!(&e.dedupe_key, mid);
    assert_eq!(e.raw["message"]["mid"], mid.as_str());
}

fn attachments_of(e: &Event) -> &[events::Attachment] {
    match &e.kind {
        EventKind::Message { attachments, .. } => attachments,
        other => panic!("not a message: {other:?}"),
    }
}

#[test]
fn image_sticker_audio_file_location_and_fallback_attachments_are_read() {
    let body = parsed("meta-docs/attachments.json");
    let kinds: Vec<&str> = body
        .events
        .iter()
        .map(|e| attachments_of(e)[0].kind.as_str())
        .collect();
    assert_eq!(
        kinds,
        ["image", "image", "audio", "file", "location", "fallback"]
    );
    let image = &attachments_of(&body.events[0])[0];
    assert!(image
        .url
        .as_deref()
        .unwrap()
        .starts_with("https://scontent.xx.fbcdn.net/"));
    assert_eq!(
        attachments_of(&body.events[1])[0].sticker_id,
        Some(369_239_263_222_822)
    );
    let pdf = &attachments_of(&body.events[3])[0];
    assert!(pdf.url.as_deref().unwrap().contains("referral_letter.pdf"));
    let loc = &attachments_of(&body.events[4])[0];
    assert_eq!(loc.coordinates, Some((35.681236, 139.767125)));
    assert_eq!(loc.title.as_deref(), Some("Pinned Location"));
    let link = &attachments_of(&body.events[5])[0];
    assert_eq!(
        link.url.as_deref(),
        Some("https://clinic.example.jp/access")
    );
    assert_eq!(link.title.as_deref(), Some("Access | Example Clinic"));
}

#[test]
fn a_quick_reply_carries_its_payload_and_the_message_it_answers() {
    let e = only("meta-docs/quick_reply.json");
    let EventKind::Message {
        quick_reply_payload,
        reply_to_mid,
        text,
        ..
    } = e.kind
    else {
        panic!()
    };
    assert_eq!(quick_reply_payload.as_deref(), Some("SLOT_MORNING"));
    assert_eq!(reply_to_mid.as_deref(), Some("m_page_question_1"));
    assert_eq!(text.as_deref(), Some("午前"));
}

#[test]
fn an_m_me_link_ref_comes_on_get_started_or_as_a_referral_item() {
    let body = parsed("meta-docs/referral.json");
    let EventKind::Postback { referral, .. } = &body.events[0].kind else {
        panic!("{:?}", body.events[0].kind)
    };
    let r = referral.as_ref().unwrap();
    assert_eq!(r.ref_param.as_deref(), Some("S-7K2Q"));
    assert_eq!(
        (r.source.as_deref(), r.kind.as_deref()),
        (Some("SHORTLINK"), Some("OPEN_THREAD"))
    );
    assert_eq!(body.events[0].dedupe_key, "postback:m_getstarted_1");
    let EventKind::Referral(r) = &body.events[1].kind else {
        panic!("{:?}", body.events[1].kind)
    };
    assert_eq!(r.ref_param.as_deref(), Some("S-7K2Q"));
    let key = &body.events[1].dedupe_key;
    assert!(
        key.starts_with("referral:7051846318273645:1743498999500:"),
        "{key}"
    );
    let EventKind::Referral(ad) = &body.events[2].kind else {
        panic!()
    };
    assert_eq!(ad.source.as_deref(), Some("ADS"));
    assert_eq!(parsed("meta-docs/referral.json").events[1].dedupe_key, *key);
}

#[test]
fn postbacks_dedupe_on_their_mid_or_on_sender_time_and_payload() {
    let body = parsed("meta-docs/postback.json");
    let EventKind::Postback {
        mid,
        title,
        payload,
        referral,
    } = &body.events[0].kind
    else {
        panic!()
    };
    assert_eq!(referral, &None);
    assert_eq!(mid.as_deref(), Some("m_postback_1"));
    assert_eq!(title.as_deref(), Some("予約を確認"));
    assert_eq!(payload.as_deref(), Some("CONFIRM_BOOKING:42"));
    assert_eq!(body.events[0].dedupe_key, "postback:m_postback_1");
    let key = &body.events[1].dedupe_key;
    assert!(
        key.starts_with("postback:7051846318273645:1743498299500:"),
        "{key}"
    );
    // A redelivery of the same bytes gives the same keys.
    let again = parsed("meta-docs/postback.json");
    assert_eq!(again.events[1].dedupe_key, *key);
}

#[test]
fn deliveries_and_reads_carry_mids_and_watermarks() {
    let body = parsed("meta-docs/delivery_read.json");
    let EventKind::Delivery { mids, watermark } = &body.events[0].kind else {
        panic!()
    };
    assert_eq!(mids, &["m_page_sent_1"]);
    assert_eq!(*watermark, Some(1_743_498_398_000));
    assert_eq!(
        body.events[0].dedupe_key,
        "delivery:7051846318273645:m_page_sent_1"
    );
    assert_ne!(body.events[1].dedupe_key, body.events[0].dedupe_key);
    assert_eq!(
        body.events[2].dedupe_key,
        "delivery:7051846318273645:w1743498398600"
    );
    let EventKind::Read { watermark, mid } = &body.events[3].kind else {
        panic!()
    };
    assert_eq!(
        (*watermark, mid.as_deref()),
        (Some(1_743_498_399_000), None)
    );
    assert_eq!(
        body.events[3].dedupe_key,
        "read:7051846318273645:1743498399000"
    );
}

#[test]
fn reactions_and_their_removal_are_distinct_events() {
    let body = parsed("meta-docs/reaction.json");
    let EventKind::Reaction {
        mid,
        action,
        emoji,
        reaction,
    } = &body.events[0].kind
    else {
        panic!()
    };
    assert_eq!(mid, "m_page_sent_1");
    assert_eq!(*action, ReactionAction::React);
    assert_eq!(emoji.as_deref(), Some("❤️"));
    assert_eq!(reaction.as_deref(), Some("love"));
    assert!(matches!(
        body.events[1].kind,
        EventKind::Reaction {
            action: ReactionAction::Unreact,
            ..
        }
    ));
    assert_eq!(
        body.events[1].dedupe_key,
        "reaction:m_page_sent_1:unreact:7051846318273645:1743498499900"
    );
}

#[test]
fn an_echo_is_recognisable_and_names_the_patient_as_its_user() {
    let e = only("meta-docs/echo.json");
    assert!(matches!(e.kind, EventKind::Message { is_echo: true, .. }));
    assert_eq!(e.sender_id, "104927532236412");
    assert_eq!(e.user_id(), "7051846318273645");
}

#[test]
fn instagram_bodies_are_marked_and_read_like_pages() {
    let body = parsed("meta-docs/instagram.json");
    assert_eq!(body.object, "instagram");
    assert!(body.events.iter().all(|e| e.instagram));
    assert_eq!(body.events[0].page_id, "17841405309211844");
    assert_eq!(attachments_of(&body.events[1])[0].kind, "ig_reel");
    let EventKind::Read { mid, .. } = &body.events[2].kind else {
        panic!()
    };
    assert!(mid.is_some());
    assert!(matches!(
        body.events[3].kind,
        EventKind::Message {
            is_deleted: true,
            ..
        }
    ));
    assert_ne!(body.events[3].dedupe_key, body.events[0].dedupe_key);
}

#[test]
fn standby_items_are_kept_and_marked() {
    let e = only("meta-docs/standby.json");
    assert!(e.standby);
    assert_eq!(e.dedupe_key, "m_standby_1");
}

#[test]
fn unknown_items_become_other_and_entries_without_messaging_are_kept_raw() {
    let body = parsed("meta-docs/unknown.json");
    let kinds: Vec<String> = body
        .events
        .iter()
        .map(|e| match &e.kind {
            EventKind::Other { kind } => kind.clone(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(kinds, ["optin", "pass_thread_control", "brand_new_event"]);
    assert_eq!(body.unhandled.len(), 1);
    assert_eq!(body.unhandled[0]["changes"][0]["field"], "feed");
    let keys: HashSet<&str> = body.events.iter().map(|e| e.dedupe_key.as_str()).collect();
    assert_eq!(keys.len(), 3);
}

#[test]
fn the_2016_library_samples_parse_including_a_delivery_without_timestamp() {
    let text = only("fbmessenger-api-hs/wsTextMessageRequest.json");
    assert_eq!(text.dedupe_key, "mid.1457764197618:41d102a3e1ae206a38");
    let image = only("fbmessenger-api-hs/wsStructuredMessageRequest.json");
    assert_eq!(attachments_of(&image)[0].url.as_deref(), Some("IMAGE_URL"));
    let delivery = only("fbmessenger-api-hs/wsDeliveryRequest.json");
    assert_eq!(
        delivery.timestamp_ms, 1_458_668_856_451,
        "falls back to entry.time"
    );
    let postback = only("fbmessenger-api-hs/wsPostbackRequest.json");
    assert!(matches!(
        postback.kind,
        EventKind::Postback { mid: None, .. }
    ));
    let optin = only("fbmessenger-api-hs/wsAuthRequest.json");
    assert_eq!(
        optin.kind,
        EventKind::Other {
            kind: "optin".into()
        }
    );
}

#[test]
fn malformed_or_foreign_bodies_are_refused() {
    assert!(events::parse(b"not json").is_err());
    assert!(events::parse(br#"{"object":"page"}"#).is_err());
    assert!(events::parse(br#"{"object":"whatsapp_business_account","entry":[]}"#).is_err());
    let empty = events::parse(br#"{"object":"page","entry":[]}"#).unwrap();
    assert!(empty.events.is_empty());
}

// Through the adapter: the items the one ingest path stores.
mod through_the_adapter {
    use serde_json::json;
    use tsunagu_channels::messenger::Messenger;
    use tsunagu_channels::provider::inbound::{Delivered, Item, Profile, Thread, What};
    use tsunagu_channels::provider::{Endpoint, Receive, WebhookRequest};

    use super::{fixture, parsed};

    const NOW: i64 = 1_800_000_000_000;

    fn items_of(body: &[u8]) -> Vec<Item> {
        let headers = http::HeaderMap::new();
        let req = WebhookRequest {
            headers: &headers,
            body,
            url: "https://clinic.example/webhooks/messenger/c",
            endpoint: Endpoint::Events,
        };
        Messenger.parse(&req, NOW).unwrap()
    }

    fn items(name: &str) -> Vec<Item> {
        items_of(&fixture(name))
    }

    fn message(item: &Item) -> &tsunagu_channels::provider::inbound::Message {
        match &item.what {
            What::Message(m) => m,
            other => panic!("expected a message, got {other:?}"),
        }
    }

    #[test]
    fn every_item_is_kept_under_its_dedupe_key_addressed_to_its_page() {
        for name in [
            "meta-docs/text.json",
            "meta-docs/attachments.json",
            "meta-docs/echo.json",
            "meta-docs/delivery_read.json",
            "meta-docs/reaction.json",
            "meta-docs/standby.json",
            "meta-docs/unknown.json",
            "meta-docs/instagram.json",
            "meta-docs/postback.json",
            "meta-docs/referral.json",
        ] {
            let body = parsed(name);
            let all = items(name);
            assert_eq!(all.len(), body.events.len(), "{name}");
            for (item, e) in all.iter().zip(&body.events) {
                assert_eq!(item.event.key, e.dedupe_key, "{name}");
                assert_eq!(item.to.as_ref().unwrap().id, e.page_id, "{name}");
                assert_eq!(item.event.sender.as_deref(), Some(e.user_id()), "{name}");
            }
        }
    }

    #[test]
    fn a_page_message_asks_for_the_profile_and_an_instagram_one_does_not() {
        let text = &items("meta-docs/text.json")[0];
        let m = message(text);
        assert_eq!(
            m.thread,
            Thread::Direct {
                from: "7051846318273645".into()
            }
        );
        assert_eq!(
            (m.profile.clone(), m.fallback_name.as_str()),
            (Profile::Fetch, "Messenger")
        );
        assert!(m.dispatch && m.reachable);
        let ig = items("meta-docs/instagram.json");
        let m = ig.iter().find_map(|i| match &i.what {
            What::Message(m) => Some(m),
            _ => None,
        });
        let m = m.unwrap();
        assert_eq!(
            (m.profile.clone(), m.fallback_name.as_str()),
            (Profile::Unknown, "Instagram")
        );
    }

    #[test]
    fn a_link_s_ref_reaches_dispatch_as_source_ref_and_a_return_is_a_system_line() {
        let all = items("meta-docs/referral.json");
        let get_started = message(&all[0]);
        assert_eq!(get_started.kind, "postback");
        assert_eq!(get_started.payload["source_ref"], "S-7K2Q");
        let back = message(&all[1]);
        assert!(back.system && back.dispatch);
        assert_eq!(
            (back.kind.as_str(), back.body.as_deref()),
            ("event", Some("referral"))
        );
        assert_eq!(back.payload["event"], "referral");
        assert_eq!(back.payload["source_ref"], "S-7K2Q");
        let plain = message(&items("meta-docs/postback.json")[0])
            .payload
            .clone();
        assert!(plain["source_ref"].is_null(), "{plain}");
    }

    #[test]
    fn echoes_are_kept_raw_standby_is_never_dispatched_and_reactions_neither() {
        assert!(items("meta-docs/echo.json")
            .iter()
            .all(|i| matches!(i.what, What::Record)));
        for item in items("meta-docs/standby.json") {
            if let What::Message(m) = &item.what {
                assert!(!m.dispatch);
            }
        }
        for item in items("meta-docs/reaction.json") {
            let m = message(&item);
            assert_eq!(m.kind, "reaction");
            assert!(!m.dispatch && m.provider_message_id.is_none());
        }
    }

    #[test]
    fn every_photo_of_a_pick_is_downloaded() {
        let all = items("meta-docs/attachments.json");
        let with_media: Vec<_> = all
            .iter()
            .filter_map(|i| message(i).media.clone())
            .collect();
        assert!(!with_media.is_empty());
        for media in with_media {
            assert_eq!(media["url"], media["urls"][0]);
        }
    }

    #[test]
    fn deliveries_and_reads_are_receipts_by_mid_or_watermark() {
        let all = items("meta-docs/delivery_read.json");
        let receipts: Vec<_> = all
            .iter()
            .map(|i| match &i.what {
                What::Receipt(r) => r.clone(),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(
            receipts[1].provider_message_ids,
            ["m_page_sent_2", "m_page_sent_3"]
        );
        assert_eq!(receipts[2].watermark, Some(1743498398600));
        assert!(receipts[2].provider_message_ids.is_empty());
        assert_eq!(receipts[3].state, Delivered::Read);
        assert_eq!(receipts[0].thread, "7051846318273645");
    }

    #[test]
    fn an_instagram_unsend_blanks_the_message_it_names() {
        let body = json!({"object": "instagram", "entry": [{"id": "IG1", "time": 5, "messaging": [
            {"sender": {"id": "IGSID"}, "recipient": {"id": "IG1"}, "timestamp": 6,
             "message": {"mid": "m1", "is_deleted": true}}]}]});
        let all = items_of(body.to_string().as_bytes());
        assert_eq!(all[0].event.key, "deleted:m1");
        let What::Unsend(u) = &all[0].what else {
            panic!("{:?}", all[0])
        };
        assert_eq!(
            (u.provider_message_id.as_str(), u.thread.as_str(), u.at_ms),
            ("m1", "IGSID", 6)
        );
    }
}
