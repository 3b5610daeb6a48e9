//! The send-body builders refuse what WhatsApp would refuse, before anything leaves.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use tsunagu_channels::whatsapp::outgoing::*;

const USER: &str = "819012345678";

#[test]
fn builders_refuse_what_whatsapp_would_refuse() {
    assert!(text(USER, &"あ".repeat(4096), false).is_ok());
    let long = text(USER, &"あ".repeat(4097), false).unwrap_err();
    assert!(long.to_string().contains("4096"), "{long}");
    assert!(text(USER, "  ", false).is_err());
    assert!(text("12", "hi", false).is_err());
    assert!(buttons(USER, "ご都合は？", &[]).is_err());
    assert!(buttons(USER, "b", &[("a", "1"), ("b", "2"), ("c", "3"), ("d", "4")]).is_err());
    assert!(buttons(USER, "b", &[("a", &"x".repeat(21))]).is_err());
    assert!(buttons(USER, "b", &[("a", "同じ"), ("b", "同じ")]).is_err());
    assert!(buttons(USER, &"x".repeat(1025), &[("a", "1")]).is_err());
    let row = |i: usize| ListRow {
        id: format!("r{i}"),
        title: format!("{i}時"),
        description: None,
    };
    let section = |title: &str, rows: Vec<ListRow>| ListSection {
        title: Some(title.into()),
        rows,
    };
    assert!(list(
        USER,
        "時間",
        "選ぶ",
        &[section("午前", (0..10).map(row).collect())]
    )
    .is_ok());
    assert!(list(
        USER,
        "時間",
        "選ぶ",
        &[
            section("午前", (0..6).map(row).collect()),
            section("午後", (6..11).map(row).collect())
        ]
    )
    .is_err());
    assert!(list(
        USER,
        "時間",
        &"x".repeat(21),
        &[section("午前", vec![row(1)])]
    )
    .is_err());
    let long_row = ListRow {
        id: "a".into(),
        title: "x".repeat(25),
        description: None,
    };
    assert!(list(USER, "時間", "選ぶ", &[section("午前", vec![long_row])]).is_err());
    let long_desc = ListRow {
        id: "a".into(),
        title: "t".into(),
        description: Some("x".repeat(73)),
    };
    assert!(list(USER, "時間", "選ぶ", &[section("午前", vec![long_desc])]).is_err());
    let untitled = ListSection {
        title: None,
        rows: vec![row(1)],
    };
    assert!(list(
        USER,
        "t",
        "b",
        &[untitled.clone(), section("s", vec![row(2)])]
    )
    .is_err());
    assert!(media(
        USER,
        MediaKind::Sticker,
        MediaSource::Id("1"),
        Some("c"),
        None
    )
    .is_err());
    assert!(media(
        USER,
        MediaKind::Image,
        MediaSource::Link("ftp://x"),
        None,
        None
    )
    .is_err());
    let doc = media(
        USER,
        MediaKind::Document,
        MediaSource::Id("1"),
        Some("結果"),
        Some("r.pdf"),
    )
    .unwrap();
    assert_eq!(doc["document"]["filename"], "r.pdf");
    let t = template(USER, "hello", "ja", &[]).unwrap();
    assert!(t["template"].get("components").is_none());
    assert!(template(USER, "x", "ja", &["a\nb".into()]).is_err());
    let reply = reply_to(text(USER, "a", false).unwrap(), "wamid.1");
    assert_eq!(reply["context"]["message_id"], "wamid.1");
}
