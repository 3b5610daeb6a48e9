//! `sms::inbound`, `sms::status` and `sms::keywords`.
#![allow(clippy::unwrap_used, clippy::expect_used)]
use tsunagu_channels::sms::{
    inbound, keywords, status, status::status_rank, Keyword, MessageStatus, ParseError,
};

fn form(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

#[test]
fn an_mms_with_two_media_items_parses() {
    let f = form(&[
        ("MessageSid", "MM1"),
        ("AccountSid", "AC1"),
        ("From", "+819012345678"),
        ("To", "+815012345678"),
        ("Body", "写真です"),
        ("NumMedia", "2"),
        ("MediaUrl0", "https://api.twilio.com/m0"),
        ("MediaContentType0", "image/jpeg"),
        ("MediaUrl1", "https://api.twilio.com/m1"),
        ("MediaContentType1", "image/png"),
    ]);
    let sms = inbound::parse(&f).unwrap();
    assert_eq!(sms.message_sid, "MM1");
    assert_eq!(sms.from, "+819012345678");
    assert_eq!(sms.to, "+815012345678");
    assert_eq!(sms.body, "写真です");
    assert_eq!(sms.num_media, 2);
    assert_eq!(sms.media[1].1, "image/png");
    assert_eq!(sms.raw, f);
}

#[test]
fn a_plain_sms_parses_and_broken_forms_are_refused() {
    let sms = inbound::parse(&form(&[
        ("SmsMessageSid", "SM1"),
        ("From", "+1"),
        ("To", "+2"),
    ]))
    .unwrap();
    assert_eq!((sms.message_sid.as_str(), sms.body.as_str()), ("SM1", ""));
    assert!(sms.media.is_empty());
    assert_eq!(
        inbound::parse(&form(&[("MessageSid", "SM1"), ("To", "+2")])),
        Err(ParseError::Missing("From".into()))
    );
    let bad = form(&[
        ("MessageSid", "S"),
        ("From", "+1"),
        ("To", "+2"),
        ("NumMedia", "x"),
    ]);
    assert!(matches!(
        inbound::parse(&bad),
        Err(ParseError::Invalid { .. })
    ));
    let short = form(&[
        ("MessageSid", "S"),
        ("From", "+1"),
        ("To", "+2"),
        ("NumMedia", "4000000000"),
    ]);
    assert_eq!(
        inbound::parse(&short),
        Err(ParseError::Missing("MediaUrl0".into()))
    );
}

#[test]
fn status_callbacks_parse_with_and_without_error_codes() {
    let cb = status::parse(&form(&[
        ("MessageSid", "SM1"),
        ("MessageStatus", "undelivered"),
        ("ErrorCode", "30003"),
    ]))
    .unwrap();
    assert_eq!(cb.status, MessageStatus::Undelivered);
    assert_eq!(cb.error_code, Some(30003));
    let cb = status::parse(&form(&[("SmsSid", "SM1"), ("SmsStatus", "sent")])).unwrap();
    assert_eq!((cb.status, cb.error_code), (MessageStatus::Sent, None));
    let cb = status::parse(&form(&[("MessageSid", "SM1"), ("MessageStatus", "new")])).unwrap();
    assert_eq!(cb.status, MessageStatus::Other("new".into()));
    assert!(status::parse(&form(&[("MessageSid", "SM1")])).is_err());
}

#[test]
fn every_status_round_trips_and_never_moves_backwards() {
    let order = [
        "accepted",
        "scheduled",
        "queued",
        "sending",
        "sent",
        "delivered",
        "read",
    ];
    for pair in order.windows(2) {
        let (a, b) = (
            MessageStatus::from_wire(pair[0]),
            MessageStatus::from_wire(pair[1]),
        );
        assert!(status::advances(&a, &b), "{pair:?}");
        assert!(!status::advances(&b, &a), "{pair:?}");
    }
    for s in ["undelivered", "failed", "canceled", "receiving", "received"] {
        assert_eq!(MessageStatus::from_wire(s).as_str(), s);
    }
    let sent = MessageStatus::Sent;
    assert!(status::advances(&sent, &MessageStatus::Failed));
    assert!(!status::advances(
        &MessageStatus::Delivered,
        &MessageStatus::Failed
    ));
    assert!(!status::advances(
        &MessageStatus::Delivered,
        &MessageStatus::Sending
    ));
    assert!(status::advances(
        &MessageStatus::Receiving,
        &MessageStatus::Received
    ));
    assert_eq!(status_rank(&MessageStatus::Other("x".into())), 0);
}

#[test]
fn default_keywords_are_whole_message_case_insensitive_and_trimmed() {
    for w in [
        "STOP",
        "stopall",
        " Unsubscribe\n",
        "cancel",
        "END",
        "quit",
        "OptOut",
        "revoke",
    ] {
        assert_eq!(keywords::classify(w), Some(Keyword::OptOut), "{w}");
    }
    for w in ["start", "YES", "unstop "] {
        assert_eq!(keywords::classify(w), Some(Keyword::OptIn), "{w}");
    }
    for w in ["help", "Info"] {
        assert_eq!(keywords::classify(w), Some(Keyword::Help), "{w}");
    }
    for w in ["please stop", "stop.", "", "ＳＴＯＰ", "ſtop", "配信停止"] {
        assert_eq!(keywords::classify(w), None, "{w}");
    }
}

// Through the adapter: the items the one ingest path stores.
mod through_the_adapter {
    use tsunagu_channels::provider::inbound::{
        Consent, Delivered, Item, Profile, Thread, Unreachable, What,
    };
    use tsunagu_channels::provider::{Answer, Endpoint, Receive, WebhookRequest};
    use tsunagu_channels::sms::Sms;

    const NOW: i64 = 1_800_000_000_000;

    fn parse(pairs: &[(&str, &str)], endpoint: Endpoint<'_>) -> Result<Vec<Item>, ()> {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish();
        let headers = http::HeaderMap::new();
        let req = WebhookRequest {
            headers: &headers,
            body: body.as_bytes(),
            url: "https://clinic.example/webhooks/sms/c",
            endpoint,
        };
        Sms.parse(&req, NOW).map_err(|_| ())
    }

    fn incoming(pairs: &[(&str, &str)]) -> Item {
        let mut all = parse(pairs, Endpoint::Events).unwrap();
        assert_eq!(all.len(), 1);
        all.remove(0)
    }

    fn message(item: &Item) -> &tsunagu_channels::provider::inbound::Message {
        match &item.what {
            What::Message(m) => m,
            other => panic!("expected a message, got {other:?}"),
        }
    }

    const SMS: [(&str, &str); 4] = [
        ("MessageSid", "SM1"),
        ("From", "+819012345678"),
        ("To", "+815012345678"),
        ("Body", "明日伺います"),
    ];

    #[test]
    fn an_sms_is_addressed_to_our_number_and_its_sender_is_a_phone() {
        let item = incoming(&SMS);
        assert_eq!(
            (item.event.key.as_str(), item.event.kind.as_str()),
            ("SM1", "message")
        );
        assert_eq!(item.event.sender.as_deref(), Some("+819012345678"));
        let stored: serde_json::Value = serde_json::from_str(&item.event.body).unwrap();
        assert_eq!(stored["Body"], "明日伺います");
        let to = item.to.clone().unwrap();
        assert_eq!((to.id.as_str(), to.service), ("+815012345678", None));
        let m = message(&item);
        assert_eq!(
            m.thread,
            Thread::Direct {
                from: "+819012345678".into()
            }
        );
        assert_eq!(
            (m.profile.clone(), m.fallback_name.as_str()),
            (Profile::Unknown, "+819012345678")
        );
        assert!(m.dispatch && m.reachable && m.sender_is_phone && m.consent.is_none());
        assert_eq!((m.kind.as_str(), m.at_ms), ("text", NOW));
        let mut with_service = SMS.to_vec();
        with_service.push(("MessagingServiceSid", "MG1"));
        assert_eq!(
            incoming(&with_service).to.unwrap().service.as_deref(),
            Some("MG1")
        );
    }

    #[test]
    fn stop_and_start_are_mirrored_and_never_dispatched_and_help_only_not_dispatched() {
        let word = |body: &'static str, extra: Option<(&'static str, &'static str)>| {
            let mut pairs = SMS.to_vec();
            pairs[3] = ("Body", body);
            pairs.extend(extra);
            let item = incoming(&pairs);
            let m = message(&item);
            (m.dispatch, m.consent.clone())
        };
        let stop = Consent::OptedOut {
            source: "sms:STOP".into(),
        };
        assert_eq!(word(" stop ", None), (false, Some(stop)));
        assert_eq!(word("start", None), (false, Some(Consent::OptedIn)));
        assert_eq!(word("help", None), (false, None));
        // Twilio's Advanced Opt-Out names its own keywords.
        let declared = Consent::OptedOut {
            source: "sms:やめる".into(),
        };
        assert_eq!(
            word("やめる", Some(("OptOutType", "STOP"))),
            (false, Some(declared))
        );
        assert_eq!(Consent::OptedIn.note(), "opted_in");
    }

    #[test]
    fn mms_media_is_downloaded_from_every_url() {
        let mut pairs = SMS.to_vec();
        pairs.extend([
            ("NumMedia", "2"),
            ("MediaUrl0", "https://api.twilio.com/m0"),
            ("MediaContentType0", "video/mp4"),
            ("MediaUrl1", "https://api.twilio.com/m1"),
            ("MediaContentType1", "image/png"),
        ]);
        let item = incoming(&pairs);
        let m = message(&item);
        assert_eq!(m.kind, "video");
        assert_eq!(
            m.media.as_ref().unwrap()["urls"][1][0],
            "https://api.twilio.com/m1"
        );
    }

    #[test]
    fn a_status_callback_names_our_message_and_what_the_carrier_said() {
        let cb = |status: &'static str, code: Option<&'static str>| {
            let mut pairs = vec![
                ("MessageSid", "SM9"),
                ("MessageStatus", status),
                ("To", "+8190"),
            ];
            pairs.extend(code.map(|c| ("ErrorCode", c)));
            let mut all = parse(
                &pairs,
                Endpoint::Status {
                    message: Some("ours"),
                },
            )
            .unwrap();
            all.remove(0)
        };
        let delivered = cb("delivered", None);
        assert_eq!(delivered.event.key, "SM9:delivered");
        assert_eq!(delivered.event.sender.as_deref(), Some("+8190"));
        assert!(delivered.to.is_none());
        let What::Status(s) = &delivered.what else {
            panic!()
        };
        assert_eq!(
            (s.state, s.ours.as_deref(), s.at_ms),
            (Delivered::Delivered, Some("ours"), NOW)
        );
        let What::Status(s) = cb("undelivered", Some("21610")).what else {
            panic!()
        };
        assert_eq!(s.state, Delivered::Failed);
        assert_eq!(
            s.unreachable,
            Some(Unreachable::OptedOut {
                source: "provider:21610".into()
            })
        );
        let What::Status(s) = cb("failed", Some("30005")).what else {
            panic!()
        };
        assert!(matches!(s.unreachable, Some(Unreachable::Bounced { .. })));
        assert_eq!(s.failure_code.as_deref(), Some("30005"));
        let What::Status(s) = cb("undelivered", Some("30003")).what else {
            panic!()
        };
        assert_eq!(s.unreachable, None);
        assert!(matches!(cb("queued", None).what, What::Record));
        assert!(parse(
            &[("MessageStatus", "sent")],
            Endpoint::Status { message: None }
        )
        .is_err());
        assert!(parse(&[("From", "+1")], Endpoint::Events).is_err());
    }

    #[test]
    fn twilio_gets_empty_twiml_for_a_message_and_ok_for_a_callback() {
        let twiml = Sms.answer(Endpoint::Events);
        assert_eq!(twiml.content_type, "text/xml; charset=utf-8");
        assert!(twiml.body.ends_with("<Response/>"));
        assert_eq!(Sms.answer(Endpoint::Status { message: None }), Answer::OK);
        assert!(Sms.routes().status_callback && !Sms.routes().handshake);
    }
}
