//! A flow's webhooks against a local receiver: `{id, type, created_at, data}` signed
//! `X-Tsunagu-Signature: t=…,v1=HMAC-SHA256(secret, "t.body")`, a refused delivery tried again
//! later under the same id, given up after 24 hours, and never sent to a private address
//! unless `[outbound] allow_private_addresses`; a LINE patient sees the loading indicator while
//! the step runs.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly
mod common;

use std::sync::{Arc, Mutex};

use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use common::{spawn_app, ACCESS_TOKEN, PATIENT};
use serde_json::Value;
use tsunagu_automation::flows::definition::{Answer, Definition, Opt, Step, StepKind};
use tsunagu_automation::flows::jobs::signature;
use tsunagu_automation::flows::store;
use tsunagu_automation::rules;
use tsunagu_core::jobs::FlowWebhook;
use tsunagu_store::jobs::{enqueue, Enqueue};

#[derive(Clone, Default)]
struct Receiver {
    /// (signature header, body) of every request, in order.
    got: Arc<Mutex<Vec<(String, String)>>>,
    /// Answer 500 to this many requests first.
    fail_first: Arc<Mutex<usize>>,
}

async fn receiver(r: Receiver) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = axum::Router::new().route(
        "/hook",
        post(move |headers: HeaderMap, body: String| {
            let r = r.clone();
            async move {
                let sig = headers
                    .get("x-tsunagu-signature")
                    .map(|v| v.to_str().unwrap().to_string())
                    .unwrap_or_default();
                r.got.lock().unwrap().push((sig, body));
                let mut fail = r.fail_first.lock().unwrap();
                if *fail > 0 {
                    *fail -= 1;
                    StatusCode::INTERNAL_SERVER_ERROR
                } else {
                    StatusCode::OK
                }
            }
        }),
    );
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}/hook")
}

fn def(url: &str) -> Definition {
    let step = |id: &str, kind| Step {
        id: id.into(),
        kind,
        next: None,
    };
    Definition {
        format: 1,
        timeout_minutes: 30,
        max_tries: 3,
        timeout_text: String::new(),
        completed_webhook: Some(url.into()),
        steps: vec![
            step(
                "q",
                StepKind::Ask {
                    text: "ワクチンの種類は？".into(),
                    key: "vaccine".into(),
                    answer: Answer::Choice {
                        options: vec![
                            Opt {
                                label: "インフルエンザ".into(),
                                next: None,
                            },
                            Opt {
                                label: "コロナ".into(),
                                next: None,
                            },
                        ],
                    },
                },
            ),
            step("hook", StepKind::Webhook { url: url.into() }),
            step(
                "end",
                StepKind::End {
                    text: "受け付けました。".into(),
                },
            ),
        ],
    }
}

#[tokio::test]
async fn step_and_completion_are_posted_signed_and_retried_under_the_same_id() {
    let app = spawn_app().await;
    let r = Receiver::default();
    *r.fail_first.lock().unwrap() = 1;
    let url = receiver(r.clone()).await;
    let cipher = &app.services.state.cipher;
    let now = app.now_ms();
    let mut conn = app.db.pool().acquire().await.unwrap();
    let flow = store::create(&mut conn, &app.clinic, "予防接種", &def(&url), cipher, now)
        .await
        .unwrap();
    store::publish(&mut conn, &app.clinic, &flow, None, now)
        .await
        .unwrap()
        .unwrap();
    store::set_enabled(&mut conn, &app.clinic, &flow, true, now)
        .await
        .unwrap();
    let draft = rules::Draft {
        name: "予防接種".into(),
        keywords: vec!["予防接種".into()],
        match_mode: "exact".into(),
        reply_text: String::new(),
        channel_id: None,
        active_hours: "always".into(),
        team_id: None,
        flow_id: Some(flow.clone()),
        enabled: true,
    };
    rules::create(&mut conn, &app.clinic, &draft, now)
        .await
        .unwrap()
        .unwrap();
    let secret = store::webhook_secret(&mut conn, &app.clinic, &flow)
        .await
        .unwrap()
        .unwrap();
    drop(conn);
    let secret = cipher.decrypt(&secret).unwrap();

    for text in ["予防接種", "2"] {
        let event = app.sandbox.user_text(PATIENT, text);
        app.sandbox.send_event(ACCESS_TOKEN, event).await.unwrap();
        app.run_jobs().await;
    }
    // While the webhook step ran, the patient saw LINE's loading indicator (best effort).
    assert_eq!(app.sandbox.loading_shown(PATIENT), vec![5]);
    // flow.step refused once (500), flow.completed taken.
    let got = r.got.lock().unwrap().clone();
    assert_eq!(got.len(), 2, "{got:?}");
    app.clock.advance(chrono::Duration::seconds(11));
    app.run_jobs().await;
    let got = r.got.lock().unwrap().clone();
    assert_eq!(got.len(), 3, "the refused one again");
    let bodies: Vec<Value> = got
        .iter()
        .map(|(_, b)| serde_json::from_str(b).unwrap())
        .collect();
    assert_eq!(bodies[0]["type"], "flow.step");
    assert_eq!(bodies[1]["type"], "flow.completed");
    assert_eq!(bodies[2]["id"], bodies[0]["id"], "a stable delivery id");
    assert_eq!(got[2].1, got[0].1, "the same body");
    assert_eq!(bodies[1]["data"]["answers"]["vaccine"], "コロナ");
    assert_eq!(bodies[1]["data"]["flow"]["name"], "予防接種");
    assert!(bodies[1]["created_at"].as_str().unwrap().ends_with('Z'));
    for (sig, body) in &got {
        let t: i64 = sig
            .strip_prefix("t=")
            .unwrap()
            .split(',')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(
            sig,
            &signature(&secret, t, body),
            "signed with the flow's key"
        );
    }
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM outbox_jobs WHERE kind = 'flow.webhook' AND state <> 'done'"
        )
        .await,
        0
    );
}

async fn queue_hook(app: &tsunagu_testkit::TestApp, url: &str) {
    let mut conn = app.db.pool().acquire().await.unwrap();
    let now = app.now_ms();
    let cipher = &app.services.state.cipher;
    let flow = store::create(&mut conn, app.clinic(), "x", &def(url), cipher, now)
        .await
        .unwrap();
    let job = FlowWebhook {
        clinic_id: app.clinic().clone(),
        flow_id: flow,
        rule_id: None,
        url: url.into(),
        body: r#"{"id":"d1"}"#.into(),
        first_at: now,
    };
    let at = Enqueue {
        clinic_id: Some(app.clinic()),
        idempotency_key: "flow.webhook:d1",
        run_at: now,
    };
    enqueue(&mut conn, &job, at, now).await.unwrap();
}

async fn job_state(app: &tsunagu_testkit::TestApp) -> (String, Option<String>) {
    sqlx::query_as("SELECT state, last_error FROM outbox_jobs WHERE kind = 'flow.webhook'")
        .fetch_one(app.db.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn a_private_address_is_refused_unless_allowed() {
    let app = tsunagu_testkit::TestApp::builder()
        .sample_clinic()
        .settings(|s| s.outbound.allow_private_addresses = false)
        .start()
        .await;
    let r = Receiver::default();
    let url = receiver(r.clone()).await;
    queue_hook(&app, &url).await;
    app.run_jobs().await;
    assert!(
        r.got.lock().unwrap().is_empty(),
        "nothing reached 127.0.0.1"
    );
    assert_eq!(job_state(&app).await.0, "dead");
}

#[tokio::test]
async fn a_receiver_that_never_takes_it_is_given_up_after_24_hours() {
    let app = tsunagu_testkit::TestApp::builder()
        .sample_clinic()
        .start()
        .await;
    let r = Receiver::default();
    *r.fail_first.lock().unwrap() = usize::MAX;
    let url = receiver(r.clone()).await;
    queue_hook(&app, &url).await;
    let mut hours = 0;
    while job_state(&app).await.0 != "dead" && hours < 30 {
        app.run_jobs().await;
        app.clock.advance(chrono::Duration::hours(1));
        hours += 1;
    }
    assert_eq!(job_state(&app).await.0, "dead");
    assert!((24..=26).contains(&hours), "{hours} hours");
    let tries = r.got.lock().unwrap().len();
    assert!(tries >= 24, "tried again and again: {tries}");
}
