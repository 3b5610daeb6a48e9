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

/// Reads the stream until `want` shows up (at most 10 s).
async fn read_until(body: &mut axum::body::Body, want: &str) -> String {
    let mut seen = String::new();
    while !seen.contains(want) {
        let frame = tokio::time::timeout(Duration::from_secs(10), body.frame())
            .await
            .unwrap_or_else(|_| panic!("no {want:?} within 10 s: {seen}"))
            .expect("the stream is open")
            .unwrap();
        if let Ok(data) = frame.into_data() {
            seen.push_str(&String::from_utf8_lossy(&data));
        }
    }
    seen
}

#[tokio::test]
async fn a_page_that_missed_events_is_told_to_resync() {
    let app = app().await;
    let mine = app.clinic("sakura", "さくら内科").await;
    let me = app
        .sign_in(&mine.clinic, Role::Receptionist, "受付 佐藤")
        .await;
    let res = app
        .router
        .clone()
        .oneshot(request(Method::GET, "/app/live", Some(&me), None))
        .await
        .unwrap();
    let mut body = res.into_body();
    // More than the hub keeps for a page that does not read: this one falls behind.
    for i in 0..1100 {
        app.live.publish(LiveEvent {
            clinic_id: mine.clinic.to_string(),
            conversation_id: format!("conversation-{i}"),
            kind: "message.created",
        });
    }
    let seen = read_until(&mut body, "event: resync").await;
    assert!(seen.starts_with("event: resync\ndata: {}"), "{seen}");
}

/// SIGTERM with a staff inbox open: graceful shutdown must not wait for the live stream, which
/// ends so the browser reconnects (to another instance).
#[tokio::test]
async fn stopping_the_server_ends_open_live_streams() {
    let app = app().await;
    let mine = app.clinic("sakura", "さくら内科").await;
    let me = app
        .sign_in(&mine.clinic, Role::Receptionist, "受付 佐藤")
        .await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/app/live", listener.local_addr().unwrap());
    let (stop, shutdown) = tokio::sync::watch::channel(false);
    let server = tokio::spawn(app.services.clone().run(listener, shutdown));

    let mut stream = app
        .http
        .get(&url)
        .header("cookie", format!("tsunagu_session={}", me.cookie))
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), StatusCode::OK);
    assert!(stream.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/event-stream"));

    stop.send(true).unwrap();
    let stopped = tokio::time::timeout(Duration::from_secs(10), server).await;
    assert!(
        stopped.is_ok(),
        "the server still waits for the open live stream"
    );
    stopped.unwrap().unwrap().unwrap();
    let ended = tokio::time::timeout(Duration::from_secs(10), async {
        while stream.chunk().await.unwrap().is_some() {}
    })
    .await;
    assert!(ended.is_ok(), "the live stream did not end");
}
