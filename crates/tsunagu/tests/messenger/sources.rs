//! Where patients come from on Messenger (流入経路, `m.me/{page}?ref={code}`): a new person's
//! Get Started carries the link's ref (`postback.referral`), someone already in a thread sends a
//! `messaging_referrals` item; either tags the patient with the source once and counts a scan,
//! a source's welcome goes instead of the channel greeting, and a redelivery changes nothing.
use serde_json::Value;
use tsunagu_automation::{greetings, source_edits, sources};

use crate::support::{spawn, Ms, PAGE, PSID};

async fn source(ms: &Ms) -> sources::Source {
    let app = &ms.app;
    let mut conn = app.db.pool().acquire().await.unwrap();
    let (clinic, now) = (&app.clinic, app.now_ms());
    let id = sources::create(
        &mut conn,
        clinic,
        &ms.channel,
        "ホームページ",
        "流入:HP",
        now,
    )
    .await
    .unwrap();
    sources::set_address(&mut conn, clinic, &ms.channel, "sakura.clinic", now)
        .await
        .unwrap();
    let s = sources::get(&mut conn, clinic, &id).await.unwrap().unwrap();
    let w =
        source_edits::check_welcome(&mut conn, clinic, "ホームページからようこそ。", None, true)
            .await
            .unwrap()
            .unwrap();
    assert!(source_edits::set_welcome(&mut conn, clinic, &id, &w)
        .await
        .unwrap());
    let g = greetings::Draft {
        enabled: true,
        greeting_text: "メッセージありがとうございます。".into(),
        ask_consent: false,
        offer_verification: false,
    };
    greetings::save(&mut conn, clinic, &ms.channel, &g, now)
        .await
        .unwrap()
        .unwrap();
    s
}

/// The texts the page sent to the person, in order.
fn sent_texts(ms: &Ms) -> Vec<String> {
    ms.sent_bodies(PAGE)
        .iter()
        .filter_map(|b| b["message"]["text"].as_str().map(str::to_string))
        .collect()
}

#[tokio::test]
async fn an_m_me_link_attributes_the_source_on_get_started_and_on_return() {
    let ms = spawn().await;
    let s = source(&ms).await;
    let link = sources::chat_link("messenger", "sakura.clinic", &s.code).unwrap();
    assert_eq!(link, format!("https://m.me/sakura.clinic?ref={}", s.code));

    // A new person: Get Started with the ref.
    let first = ms.sb.open_link(PAGE, PSID, &s.code).await.unwrap();
    assert_eq!(first.status, 200);
    assert!(
        first.json["entry"][0]["messaging"][0]["postback"]["referral"]["ref"] == s.code.as_str()
    );
    ms.app.run_jobs().await;
    assert_eq!(ms.sb.redeliver(PAGE, &first).await.unwrap().status, 200);
    ms.app.run_jobs().await;
    let tag = "SELECT COUNT(*) FROM patient_tags WHERE tag = '流入:HP'";
    assert_eq!(ms.count(tag).await, 1);
    assert_eq!(ms.count("SELECT COUNT(*) FROM inflow_scans").await, 1);
    assert_eq!(
        sent_texts(&ms),
        ["ホームページからようこそ。"],
        "the source's welcome, not the channel greeting, once"
    );

    // Back later through the same link: a `messaging_referrals` item, a scan more, welcomed
    // again (読み取るたび), and a line for staff.
    let back = ms.sb.open_link(PAGE, PSID, &s.code).await.unwrap();
    assert_eq!(back.status, 200);
    let item: &Value = &back.json["entry"][0]["messaging"][0];
    assert!(
        item.get("referral").is_some() && item.get("postback").is_none(),
        "{item}"
    );
    ms.app.run_jobs().await;
    assert_eq!(ms.sb.redeliver(PAGE, &back).await.unwrap().status, 200);
    ms.app.run_jobs().await;
    assert_eq!(ms.count("SELECT COUNT(*) FROM inflow_scans").await, 2);
    assert_eq!(ms.count(tag).await, 1);
    assert_eq!(sent_texts(&ms).len(), 2, "{:?}", sent_texts(&ms));
    let mut conn = ms.app.db.pool().acquire().await.unwrap();
    let counted = sources::counted(&mut conn, &ms.app.clinic).await.unwrap();
    assert_eq!((counted[0].added, counted[0].messages), (1, 2));
    drop(conn);

    // Staff read the link line in words, never its code.
    let conv = ms.conv(PSID).await;
    let (page, html) = {
        let admin = ms
            .app
            .staff_session(&ms.app.clinic, tsunagu_core::Role::Admin, "管理 高橋")
            .await;
        let r = ms
            .app
            .request(
                axum::http::Method::GET,
                &format!("/app/conversations/{conv}"),
            )
            .session(&admin)
            .send()
            .await;
        (r.status, r.text())
    };
    assert_eq!(page, 200);
    assert!(html.contains("リンクから会話を開きました"), "{html}");
    assert!(html.contains("ホームページ"), "{html}");
}

#[tokio::test]
async fn a_ref_that_names_no_source_is_only_a_line() {
    let ms = spawn().await;
    let _ = source(&ms).await;
    ms.says(PAGE, PSID, "こんにちは").await;
    let before = sent_texts(&ms).len();
    let p = ms
        .sb
        .open_link(PAGE, PSID, "spring-campaign")
        .await
        .unwrap();
    assert_eq!(p.status, 200);
    ms.app.run_jobs().await;
    assert_eq!(ms.count("SELECT COUNT(*) FROM inflow_scans").await, 0);
    assert_eq!(sent_texts(&ms).len(), before, "nothing answers a bare link");
    let lines = "SELECT COUNT(*) FROM messages WHERE body = 'referral'";
    assert_eq!(ms.count(lines).await, 1);
}
