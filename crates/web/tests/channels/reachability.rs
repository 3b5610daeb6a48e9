//! Reachability on the patient page and in the patient API.
use axum::http::StatusCode;
use tsunagu_core::{Role, TokenScope};
use tsunagu_store::reachability;

use super::seed::{whatsapp_channel, HOUR_MS};
use super::{api_support, ui_support};

#[tokio::test]
async fn the_patient_page_shows_an_opt_out_with_its_date_and_source() {
    let app = ui_support::app().await;
    let s = app.clinic("sakura", "さくら内科").await;
    let c = app
        .conversation(&s, "U1", "山田 花子", "こんにちは", ui_support::T0)
        .await;
    let mut tx = app.db.begin().await.unwrap();
    // 2026-11-23 09:41 in Tokyo.
    reachability::set_opted_out(tx.conn(), &c.identity_id, ui_support::T0, "sms:STOP")
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let me = app
        .sign_in(&s.clinic, Role::Receptionist, "受付 佐藤")
        .await;
    let res = app
        .get(&format!("/app/patients/{}", c.patient_id), &me)
        .await;
    assert_eq!(res.status, StatusCode::OK);
    assert!(
        res.text.contains("data-reach=\"opted_out\""),
        "{}",
        res.text
    );
    assert!(res.text.contains("配信停止"));
    let page = res.urls();
    assert!(page.contains("2026/11/23 09:41") && page.contains("sms:STOP"));
}

#[tokio::test]
async fn a_whatsapp_identity_shows_until_when_the_window_is_open() {
    let app = ui_support::app().await;
    let s = app.clinic("sakura", "さくら内科").await;
    let wa = ui_support::Seeded {
        channel: whatsapp_channel(&app.db, &s.clinic).await,
        clinic: s.clinic.clone(),
    };
    let c = app
        .conversation(
            &wa,
            "819012345678",
            "山田 花子",
            "こんにちは",
            ui_support::T0,
        )
        .await;
    let mut tx = app.db.begin().await.unwrap();
    reachability::record_inbound(tx.conn(), &c.identity_id, ui_support::T0)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let me = app
        .sign_in(&s.clinic, Role::Receptionist, "受付 佐藤")
        .await;
    let path = format!("/app/patients/{}", c.patient_id);
    let page = app.get(&path, &me).await.urls();
    assert!(page.contains("返信期間: 2026/11/24 09:41 まで"), "{page}");
    app.clock
        .advance(chrono::Duration::milliseconds(25 * HOUR_MS));
    let me = app
        .sign_in(&s.clinic, Role::Receptionist, "受付 佐藤")
        .await;
    let page = app.get(&path, &me).await.text;
    assert!(page.contains("返信期間外"));
    // The conversation's reply box is closed before 送信 and points to a template.
    let conv = app
        .get(&format!("/app/conversations/{}", c.id), &me)
        .await
        .text;
    assert!(conv.contains("data-reason=\"outside_window\""), "{conv}");
    assert!(conv.contains("承認済みテンプレートなら送れます"), "{conv}");
    assert!(conv.contains("data-testid=\"reply-send\" disabled"));
}

#[tokio::test]
async fn the_patient_api_carries_reachability_per_identity() {
    let app = api_support::app().await;
    let s = app.clinic("sakura").await;
    let c = app
        .conversation(&s, "U1", "こんにちは", api_support::T0)
        .await;
    let mut tx = app.db.begin().await.unwrap();
    reachability::set_bounced(
        tx.conn(),
        c.identity_id.as_str(),
        api_support::T0,
        "user unavailable",
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let token = app.token(&s.clinic, &[TokenScope::Read]).await;
    let res = app
        .get(&format!("/api/v1/patients/{}", c.patient_id), &token)
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    let r = &res.body["identities"][0]["reachability"];
    assert_eq!(r["state"], "bounced");
    assert_eq!(r["bounce_reason"], "user unavailable");
    assert!(r["window_open"].is_null(), "LINE has no service window");
}
