//! Data subject requests end to end through the LINE sandbox: the exported file holds every
//! message on every channel; after erasure no table mentions the patient except the audit ids
//! (checked by scanning every column of every table); a late redelivery recreates nothing.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly
mod common;
#[path = "privacy/scan.rs"]
mod scan;

use common::{spawn_app, TestApp, ACCESS_TOKEN, PATIENT};
use scan::mentions;
use serde_json::{json, Value};
use tsunagu_core::{ChannelId, Clock};
use tsunagu_sandbox::line::{ChannelConfig, UserProfile};
use tsunagu_store::channels;

const SECRET2: &str = "0f1e2d3c4b5a69788796a5b4c3d2e1f0";
const TOKEN2: &str = "second-channel-token-0123456789";
const PATIENT2: &str = "U0aa0bb0cc0dd0ee0ff00112233445566";
const OTHER: &str = "U99887766554433221100ffeeddccbbaa";
const GROUP: &str = "C1234567890abcdef1234567890abcdef";

/// A second LINE official account of the same clinic (LINE user ids differ per provider).
async fn second_channel(app: &TestApp) -> ChannelId {
    let sb_url: String = sqlx::query_scalar("SELECT api_base_url FROM channels WHERE id = $1")
        .bind(app.channel.as_str())
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    let creds = app
        .services
        .state
        .cipher
        .encrypt_json(&json!({"channel_secret": SECRET2, "channel_access_token": TOKEN2}));
    let mut tx = app.db.begin().await.unwrap();
    let ch = channels::create(
        tx.conn(),
        channels::NewChannel {
            clinic_id: &app.clinic,
            kind: "line",
            name: "LINE 分院",
            credentials_enc: &creds,
            api_base_url: &sb_url,
            api_data_base_url: Some(&sb_url),
            settings: "{}",
        },
        app.clock.now_ms(),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    app.sandbox.add_channel(ChannelConfig {
        channel_secret: SECRET2.into(),
        access_token: TOKEN2.into(),
        bot_user_id: "Ufedcba9876543210fedcba9876543210".into(),
        webhook_url: Some(format!("{}/webhooks/line/{ch}", app.base)),
        quota: None,
    });
    app.sandbox.add_user(
        TOKEN2,
        UserProfile {
            user_id: PATIENT2.into(),
            display_name: "山田 花子".into(),
            picture_url: None,
            status_message: None,
            language: Some("ja".into()),
        },
    );
    ch
}

async fn send(app: &TestApp, token: &str, event: Value) {
    assert_eq!(app.sandbox.send_event(token, event).await.unwrap(), 200);
    app.run_jobs().await;
}

async fn one(app: &TestApp, sql: &str, bind: &str) -> String {
    sqlx::query_scalar(sql)
        .bind(bind)
        .fetch_one(app.db.pool())
        .await
        .unwrap()
}

struct Story {
    patient: String,
    identities: Vec<String>,
    texts: Vec<String>,
    first_event: Value,
}

/// The patient writes on two channels and in a group, sends an image, gets a staff reply;
/// staff link their second account to the same record and record a consent withdrawal.
async fn story(app: &TestApp) -> Story {
    let ch2 = second_channel(app).await;
    let first_event = app
        .sandbox
        .user_text(PATIENT, "胃が痛くて、明日診てもらえますか");
    send(app, ACCESS_TOKEN, first_event.clone()).await;
    send(app, ACCESS_TOKEN, app.sandbox.user_image(PATIENT)).await;
    let patient = one(
        app,
        "SELECT patient_id FROM channel_identities WHERE external_id = $1",
        PATIENT,
    )
    .await;
    let conv = one(
        app,
        "SELECT id FROM conversations WHERE thread_key = $1",
        PATIENT,
    )
    .await;
    let (s, _) = app
        .api_post(
            &format!("/api/v1/conversations/{conv}/messages"),
            json!({"text": "明日の10時にお越しください"}),
        )
        .await;
    assert_eq!(s, 201);
    app.run_jobs().await;
    send(
        app,
        TOKEN2,
        app.sandbox
            .user_text(PATIENT2, "分院のアカウントからも失礼します"),
    )
    .await;
    send(
        app,
        ACCESS_TOKEN,
        app.sandbox
            .group_text(GROUP, PATIENT, "家族グループから花子です"),
    )
    .await;
    send(
        app,
        ACCESS_TOKEN,
        app.sandbox.group_text(GROUP, OTHER, "ほかの家族の発言です"),
    )
    .await;

    // Staff link the second account to the same record (as verification would).
    let ident2 = one(
        app,
        "SELECT id FROM channel_identities WHERE external_id = $1",
        PATIENT2,
    )
    .await;
    let provisional = one(
        app,
        "SELECT patient_id FROM channel_identities WHERE id = $1",
        &ident2,
    )
    .await;
    for sql in [
        "UPDATE channel_identities SET patient_id = $1 WHERE id = $2",
        "UPDATE conversations SET patient_id = $1 WHERE channel_identity_id = $2",
    ] {
        sqlx::query(sql)
            .bind(&patient)
            .bind(&ident2)
            .execute(app.db.pool())
            .await
            .unwrap();
    }
    sqlx::query("DELETE FROM patients WHERE id = $1")
        .bind(&provisional)
        .execute(app.db.pool())
        .await
        .unwrap();
    sqlx::query("INSERT INTO patient_tags (clinic_id, patient_id, tag, created_at) VALUES ($1, $2, '胃腸外来', 0)")
        .bind(app.clinic.as_str())
        .bind(&patient)
        .execute(app.db.pool())
        .await
        .unwrap();
    let (s, _) = app
        .api_post(
            &format!("/api/v1/patients/{patient}/consents"),
            json!({"purpose": "marketing", "granted": false, "source": "staff",
                   "wording": "お知らせの配信を停止します", "reason": "窓口で申し出"}),
        )
        .await;
    assert_eq!(s, 201);
    assert!(ch2.as_str().len() > 10);
    let ident1 = one(
        app,
        "SELECT id FROM channel_identities WHERE external_id = $1",
        PATIENT,
    )
    .await;
    Story {
        patient,
        identities: vec![ident1, ident2],
        texts: vec![
            "胃が痛くて、明日診てもらえますか".into(),
            "明日の10時にお越しください".into(),
            "分院のアカウントからも失礼します".into(),
            "家族グループから花子です".into(),
            "お知らせの配信を停止します".into(),
        ],
        first_event,
    }
}

#[tokio::test]
async fn the_export_holds_every_message_on_every_channel_with_the_image_bytes() {
    let app = spawn_app().await;
    let st = story(&app).await;
    let (status, file) = app
        .api_get(&format!("/api/v1/patients/{}/export", st.patient))
        .await;
    assert_eq!(status, 200, "{file}");
    let convs = file["conversations"].as_array().unwrap();
    let channels: std::collections::HashSet<&str> = convs
        .iter()
        .map(|c| c["conversation"]["channel_id"].as_str().unwrap())
        .collect();
    assert_eq!(channels.len(), 2, "both channels are in the file");
    let bodies: Vec<&str> = convs
        .iter()
        .flat_map(|c| c["messages"].as_array().unwrap())
        .filter_map(|m| m["body"].as_str())
        .collect();
    for t in &st.texts[..4] {
        assert!(bodies.contains(&t.as_str()), "{t} missing from {bodies:?}");
    }
    assert!(
        !bodies.contains(&"ほかの家族の発言です"),
        "other group members' words are theirs"
    );
    // Every message of the patient's own conversations is there (inbound, outbound, image).
    let in_db: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM messages WHERE conversation_id IN (SELECT id FROM conversations WHERE patient_id = $1)",
    )
    .bind(&st.patient)
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    let exported_direct: usize = convs
        .iter()
        .filter(|c| c["conversation"]["patient_id"] == json!(st.patient))
        .map(|c| c["messages"].as_array().unwrap().len())
        .sum();
    assert_eq!(exported_direct as i64, in_db);
    let image = convs
        .iter()
        .flat_map(|c| c["messages"].as_array().unwrap())
        .find(|m| m["kind"] == "image")
        .unwrap();
    assert!(
        image["attachments"][0]["data_base64"]
            .as_str()
            .unwrap()
            .len()
            > 20
    );
    assert_eq!(file["tags"], json!(["胃腸外来"]));
    assert_eq!(
        file["consent_events"][0]["wording"],
        "お知らせの配信を停止します"
    );
    assert_eq!(file["identities"].as_array().unwrap().len(), 2);

    let r = app
        .http
        .get(format!(
            "{}/api/v1/patients/{}/export.html",
            app.base, st.patient
        ))
        .bearer_auth(&app.api_token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let html = r.text().await.unwrap();
    assert!(html.contains("やりとり") && html.contains("分院のアカウントからも失礼します"));
    assert!(
        html.contains("2026-11-23 09:"),
        "times on the clinic's clock"
    );
    let audits = app
        .count("SELECT COUNT(*) FROM audit_events WHERE action = 'patient.export'")
        .await;
    assert_eq!(audits, 2);
}

#[tokio::test]
async fn after_erasure_nothing_but_audit_ids_remains_and_a_late_redelivery_recreates_nothing() {
    let app = spawn_app().await;
    let st = story(&app).await;
    let mut needles = vec![
        st.patient.clone(),
        PATIENT.to_string(),
        PATIENT2.to_string(),
        "山田".into(),
        "花子".into(),
    ];
    needles.extend(st.identities.iter().cloned());
    needles.extend(st.texts.iter().cloned());
    assert!(
        !mentions(&app, &needles, &st.patient).await.is_empty(),
        "the scan finds the patient before"
    );
    let events_before = app.count("SELECT COUNT(*) FROM webhook_events").await;

    let r = app
        .http
        .delete(format!("{}/api/v1/patients/{}", app.base, st.patient))
        .bearer_auth(&app.api_token)
        .json(&json!({"reason": "山田 花子様ご本人からの削除請求"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let report: Value = r.json().await.unwrap();
    assert_eq!(report["counts"]["patients"], 1);
    assert!(
        report["counts"]["messages"].as_i64().unwrap() >= 5,
        "{report}"
    );

    let left = mentions(&app, &needles, &st.patient).await;
    assert!(left.is_empty(), "still mentioned: {left:?}");
    // The other member's group message stays; raw events stay as bodiless dedupe rows.
    assert_eq!(
        app.count("SELECT COUNT(*) FROM messages WHERE body = 'ほかの家族の発言です'")
            .await,
        1
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM webhook_events").await,
        events_before
    );
    let erased = app
        .count("SELECT COUNT(*) FROM audit_events WHERE action = 'patient.erased'")
        .await;
    assert_eq!(erased, 1);
    assert!(matches!(
        tsunagu_privacy::audit::verify(&app.db).await.unwrap(),
        tsunagu_privacy::audit::Verdict::Intact { .. }
    ));

    // LINE redelivers the first message a week later: deduped, nothing recreated.
    app.clock.advance(chrono::Duration::days(7));
    let patients = app.count("SELECT COUNT(*) FROM patients").await;
    let messages = app.count("SELECT COUNT(*) FROM messages").await;
    assert_eq!(
        app.sandbox
            .redeliver(ACCESS_TOKEN, &st.first_event)
            .await
            .unwrap(),
        200
    );
    app.run_jobs().await;
    assert_eq!(app.count("SELECT COUNT(*) FROM patients").await, patients);
    assert_eq!(app.count("SELECT COUNT(*) FROM messages").await, messages);
    assert!(mentions(&app, &needles, &st.patient).await.is_empty());

    // Past the dedupe window, retention drops the bodiless rows.
    app.clock.advance(chrono::Duration::days(2));
    tsunagu_privacy::retention::apply_all(&app.db, app.clock.now_ms())
        .await
        .unwrap();
    assert_eq!(
        app.count("SELECT COUNT(*) FROM webhook_events WHERE body IS NULL")
            .await,
        0
    );
}
