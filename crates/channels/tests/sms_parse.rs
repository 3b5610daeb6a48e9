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
