use std::time::Duration;

use axum::http::{Method, StatusCode};
use http_body_util::BodyExt;
use tower::ServiceExt;
use tsunagu_core::Role;
use tsunagu_inbox::LiveEvent;

use super::support::{app, request, T0};

#[tokio::test]
async fn the_live_stream_carries_the_own_clinics_events_only() {
    let app = app().await;
    let mine = app.clinic("sakura", "さくら内科").await;
    let theirs = app.clinic("momiji", "もみじ皮膚科").await;
    let c = app
        .conversation(&mine, "U1", "山田 花子", "こんにちは", T0)
        .await;
    let me = app
        .sign_in(&mine.clinic, Role::Receptionist, "受付 佐藤")
        .await;

    let res = app
        .router
        .clone()
        .oneshot(request(Method::GET, "/app/live", Some(&me), None))
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/event-stream"));
    let mut body = res.into_body();

    // The stream subscribed while answering: both events below reach it, one is for another clinic.
    app.live.publish(LiveEvent {
        clinic_id: theirs.clinic.to_string(),
        conversation_id: "someone-elses-conversation".into(),
        kind: "message.created",
    });
    app.live.publish(LiveEvent {
        clinic_id: mine.clinic.to_string(),
        conversation_id: c.id.to_string(),
        kind: "message.created",
    });

    let mut seen = String::new();
    while !seen.contains(c.id.as_str()) {
        let frame = tokio::time::timeout(Duration::from_secs(5), body.frame())
            .await
            .expect("an event within 5 s")
            .expect("the stream is open")
            .unwrap();
        if let Ok(data) = frame.into_data() {
            seen.push_str(&String::from_utf8_lossy(&data));
        }
    }
    assert!(seen.contains("event: inbox"), "{seen}");
    assert!(seen.contains(r#""kind":"message.created""#), "{seen}");
    assert!(!seen.contains("someone-elses-conversation"), "{seen}");
    assert!(!seen.contains(theirs.clinic.as_str()), "{seen}");
}

#[tokio::test]
async fn the_live_stream_needs_a_session() {
    let app = app().await;
    let res = app
        .send(request(Method::GET, "/app/live", None, None))
        .await;
    assert_ne!(res.status, StatusCode::OK);
}
