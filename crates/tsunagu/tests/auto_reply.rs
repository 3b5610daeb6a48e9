//! Immediate automated answers by LINE reply token: sent once, never repeated when the outcome
//! is unknown, never re-sent by push, and never attempted with an expired token.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly
mod common;

use common::{spawn_app, TestApp, ACCESS_TOKEN, PATIENT};
use serde_json::{json, Value};
use tsunagu_core::{Clock, Code, ConversationId};
use tsunagu_inbox::reply::{queue_auto_reply, ReplyOutcome};
use tsunagu_store::conversations;

const REPLY: &str = "/v2/bot/message/reply";
const PUSH: &str = "/v2/bot/message/push";

/// The patient's message as ingest stored it: its conversation, reply token and token time.
struct Inbound {
    conversation: conversations::Conversation,
    reply_token: Option<String>,
    reply_token_at: i64,
}

async fn patient_sends(app: &TestApp, event: Value) -> Inbound {
    assert_eq!(
        app.sandbox.send_event(ACCESS_TOKEN, event).await.unwrap(),
        200
    );
    app.run_jobs().await; // the profile fetch
    let (conv_id, payload): (String, String) = sqlx::query_as(
        "SELECT conversation_id, payload FROM messages WHERE direction = 'in' ORDER BY created_at DESC, id DESC LIMIT 1",
    )
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    let payload: Value = serde_json::from_str(&payload).unwrap();
    let mut conn = app.db.pool().acquire().await.unwrap();
    let conversation =
        conversations::by_id(&mut conn, &app.clinic, &ConversationId::from_db(conv_id))
            .await
            .unwrap()
            .unwrap();
    Inbound {
        conversation,
        reply_token: payload["reply_token"].as_str().map(str::to_string),
        reply_token_at: payload["reply_token_at"].as_i64().unwrap(),
    }
}

fn answer() -> Vec<Value> {
    vec![json!({"type": "text", "text": "受付時間は9時から18時です。"})]
}

async fn auto_reply(app: &TestApp, inbound: &Inbound) -> ReplyOutcome {
    queue_auto_reply(
        &app.db,
        &app.clinic,
        &inbound.conversation,
        inbound.reply_token.as_deref(),
        inbound.reply_token_at,
        answer(),
        app.clock.now_ms(),
    )
    .await
    .unwrap()
}

async fn queued(app: &TestApp, inbound: &Inbound) -> conversations::Message {
    match auto_reply(app, inbound).await {
        ReplyOutcome::Queued(m) => *m,
        ReplyOutcome::Refused(r) => panic!("refused: {r}"),
    }
}

/// (status, failure_code) of the automated message now.
async fn status_of(app: &TestApp, id: &str) -> (String, Option<String>) {
    sqlx::query_as("SELECT status, failure_code FROM messages WHERE id = $1")
        .bind(id)
        .fetch_one(app.db.pool())
        .await
        .unwrap()
}

async fn reply_job_state(app: &TestApp) -> String {
    // The answer is a `message.send` job keyed by its reply token.
    sqlx::query_scalar(
        "SELECT state FROM outbox_jobs WHERE kind = 'message.send' AND idempotency_key LIKE 'reply:%'",
    )
        .fetch_one(app.db.pool())
        .await
        .unwrap()
}

#[tokio::test]
async fn an_automated_answer_is_sent_once_by_reply_token() {
    let app = spawn_app().await;
    let inbound = patient_sends(&app, app.sandbox.user_text(PATIENT, "受付時間は？")).await;
    assert!(inbound.reply_token.is_some());
    let msg = queued(&app, &inbound).await;
    assert_eq!(
        (msg.author_kind.as_str(), msg.status.as_str()),
        ("automation", "queued")
    );
    app.run_jobs().await;

    let replies: Vec<_> = app
        .sandbox
        .received()
        .into_iter()
        .filter(|r| r.endpoint == REPLY)
        .collect();
    assert_eq!(replies.len(), 1);
    assert_eq!(
        replies[0].body,
        json!({"replyToken": inbound.reply_token, "messages": answer()})
    );
    assert_eq!(app.sandbox.delivered_to(PATIENT), answer());
    assert_eq!(app.sandbox.calls_to(PUSH), 0);
    assert_eq!(status_of(&app, &msg.id).await, ("sent".into(), None));
    assert_eq!(reply_job_state(&app).await, "done");

    // The token is single-use: a second answer to the same event is refused before anything is stored.
    assert!(matches!(
        auto_reply(&app, &inbound).await,
        ReplyOutcome::Refused(r) if r.code == Code::ReplyTokenUsed
    ));
    assert_eq!(
        app.count("SELECT COUNT(*) FROM messages WHERE author_kind = 'automation'")
            .await,
        1
    );
}

#[tokio::test]
async fn a_reply_whose_answer_is_lost_is_in_doubt_and_never_sent_again() {
    let app = spawn_app().await;
    let inbound = patient_sends(&app, app.sandbox.user_text(PATIENT, "駐車場はありますか")).await;
    app.sandbox.fail_next_after_accept(REPLY, 1);
    let msg = queued(&app, &inbound).await;
    app.run_jobs().await;
    for _ in 0..3 {
        app.clock.advance(chrono::Duration::minutes(30));
        app.run_jobs().await;
    }

    assert_eq!(
        app.sandbox.delivered_to(PATIENT),
        answer(),
        "the patient got exactly one answer"
    );
    assert_eq!(app.sandbox.calls_to(REPLY), 1, "not repeated");
    assert_eq!(app.sandbox.calls_to(PUSH), 0, "never re-sent by push");
    assert_eq!(
        status_of(&app, &msg.id).await,
        ("in_doubt".into(), Some("in_doubt".into()))
    );
    assert_eq!(reply_job_state(&app).await, "in_doubt");
    // The staff retry button (a push) does not apply to an automated reply.
    let retried = tsunagu_outbox::retry::retry_message(
        &app.db,
        &app.clinic,
        &tsunagu_core::MessageId::from_db(msg.id.clone()),
        app.clock.now_ms(),
    )
    .await
    .unwrap();
    assert_eq!(retried, tsunagu_outbox::retry::RetryOutcome::NotRetryable);
    app.run_jobs().await;
    assert_eq!(app.sandbox.calls_to(PUSH), 0);
}

#[tokio::test]
async fn a_500_before_line_executed_it_is_still_in_doubt_because_we_cannot_tell() {
    let app = spawn_app().await;
    let inbound = patient_sends(&app, app.sandbox.user_text(PATIENT, "こんにちは")).await;
    app.sandbox.fail_next_before_accept(REPLY, 1);
    let msg = queued(&app, &inbound).await;
    app.run_jobs().await;
    app.clock.advance(chrono::Duration::seconds(10));
    app.run_jobs().await;
    assert_eq!(app.sandbox.calls_to(REPLY), 1);
    assert!(app.sandbox.delivered_to(PATIENT).is_empty());
    assert_eq!(status_of(&app, &msg.id).await.0, "in_doubt");
}

#[tokio::test]
async fn an_expired_reply_token_is_dead_without_a_request() {
    let app = spawn_app().await;
    let inbound = patient_sends(&app, app.sandbox.user_text(PATIENT, "予約できますか")).await;
    let msg = queued(&app, &inbound).await;
    app.clock.advance(chrono::Duration::milliseconds(
        tsunagu_outbox::REPLY_TOKEN_LIFETIME_MS + 1,
    ));
    app.run_jobs().await;
    assert_eq!(app.sandbox.calls_to(REPLY), 0);
    assert_eq!(app.sandbox.calls_to(PUSH), 0);
    assert_eq!(
        status_of(&app, &msg.id).await,
        ("failed".into(), Some("reply_token_expired".into()))
    );
    assert_eq!(reply_job_state(&app).await, "dead");
}

#[tokio::test]
async fn no_connection_means_nothing_was_sent_so_the_reply_is_retried_while_the_token_lasts() {
    let app = spawn_app().await;
    let inbound = patient_sends(&app, app.sandbox.user_text(PATIENT, "今日は空いていますか")).await;
    let real: String = sqlx::query_scalar("SELECT api_base_url FROM channels")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    // A port nobody listens on: the connection is refused, so LINE saw nothing.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    set_api_base(&app, &format!("http://{closed}")).await;
    let msg = queued(&app, &inbound).await;
    app.run_jobs().await;
    assert_eq!(
        status_of(&app, &msg.id).await,
        ("queued".into(), Some("retrying".into()))
    );

    set_api_base(&app, &real).await;
    app.clock.advance(chrono::Duration::seconds(3));
    app.run_jobs().await;
    assert_eq!(app.sandbox.delivered_to(PATIENT), answer());
    assert_eq!(status_of(&app, &msg.id).await.0, "sent");
}

async fn set_api_base(app: &TestApp, url: &str) {
    sqlx::query("UPDATE channels SET api_base_url = $1")
        .bind(url)
        .execute(app.db.pool())
        .await
        .unwrap();
}

#[tokio::test]
async fn a_reply_whose_worker_died_mid_send_is_in_doubt_not_requeued() {
    let app = spawn_app().await;
    let inbound = patient_sends(&app, app.sandbox.user_text(PATIENT, "薬の相談をしたいです")).await;
    let msg = queued(&app, &inbound).await;
    // A worker sends the reply and dies before LINE answers (LINE executed it).
    app.sandbox
        .delay_next_after_accept(REPLY, std::time::Duration::from_secs(600), 1);
    let dying = app.services.worker.clone();
    {
        let mut run = std::pin::pin!(dying.run_once());
        // LINE records the delivery when it executes the reply, before its held answer.
        while app.sandbox.delivered_to(PATIENT).is_empty() {
            tokio::select! {
                ran = &mut run => panic!("the send was not held: {ran:?}"),
                _ = tokio::time::sleep(std::time::Duration::from_millis(10)) => {}
            }
        }
    }
    let lease = app.services.worker.config.lease_ms;
    app.clock.advance(chrono::Duration::milliseconds(lease + 1));
    app.run_jobs().await;
    assert_eq!(
        app.sandbox.delivered_to(PATIENT),
        answer(),
        "never repeated"
    );
    assert_eq!(reply_job_state(&app).await, "in_doubt");
    assert_eq!(status_of(&app, &msg.id).await.0, "in_doubt");
}

#[tokio::test]
async fn a_reply_whose_worker_died_before_calling_line_is_sent_by_the_next_worker() {
    let app = spawn_app().await;
    let inbound = patient_sends(&app, app.sandbox.user_text(PATIENT, "薬の相談をしたいです")).await;
    let msg = queued(&app, &inbound).await;
    // A worker claims the job and dies before its call; a short lease, so the token still lives.
    let mut next = app.services.worker.clone();
    next.config.lease_ms = 10_000;
    let claimed = tsunagu_store::jobs::claim_due(&app.db, app.clock.now_ms(), 10_000, 1)
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);
    app.clock.advance(chrono::Duration::milliseconds(10_001));
    next.run_until_idle().await.unwrap();
    assert_eq!(app.sandbox.calls_to(REPLY), 1);
    assert_eq!(app.sandbox.delivered_to(PATIENT), answer());
    assert_eq!(reply_job_state(&app).await, "done");
    assert_eq!(status_of(&app, &msg.id).await.0, "sent");
}

#[tokio::test]
async fn serve_returns_only_once_its_worker_settled_the_reply_in_flight() {
    let app = spawn_app().await;
    let inbound = patient_sends(&app, app.sandbox.user_text(PATIENT, "薬の相談をしたいです")).await;
    let msg = queued(&app, &inbound).await;
    app.sandbox
        .delay_next_after_accept(REPLY, std::time::Duration::from_secs(600), 1);
    // Another instance serving with its worker, and a short grace.
    let mut settings = (*app.services.state.settings).clone();
    settings.outbox.workers = true;
    settings.outbox.shutdown_grace_secs = 1;
    let services = app.another_instance(settings, &tsunagu_testkit::app::KEY);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let serve = tokio::spawn(services.run(listener, stopped));
    // SIGTERM while LINE holds its answer to the reply it executed.
    while app.sandbox.delivered_to(PATIENT).is_empty() {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    stop.send(true).unwrap();
    tokio::time::timeout(std::time::Duration::from_secs(60), serve)
        .await
        .expect("serve returns within the grace")
        .unwrap()
        .unwrap();
    // Settled before `serve` returned: no lease left for another instance to wait out.
    assert_eq!(reply_job_state(&app).await, "in_doubt");
    assert_eq!(status_of(&app, &msg.id).await.0, "in_doubt");
}

#[tokio::test]
async fn a_standby_event_has_no_reply_token_and_gets_no_reply() {
    let app = spawn_app().await;
    let mut event = app.sandbox.user_text(PATIENT, "別のボットが応答中");
    event["mode"] = json!("standby");
    let inbound = patient_sends(&app, event).await;
    assert_eq!(
        inbound.reply_token, None,
        "ingest drops a standby event's reply token"
    );
    assert!(matches!(
        auto_reply(&app, &inbound).await,
        ReplyOutcome::Refused(r) if r.code == Code::NoReplyToken
    ));
    assert_eq!(
        app.count("SELECT COUNT(*) FROM outbox_jobs WHERE kind = 'message.send'")
            .await,
        0
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM messages WHERE direction = 'out'")
            .await,
        0
    );
}

#[tokio::test]
async fn a_line_reply_job_queued_before_the_upgrade_still_goes_out_by_reply() {
    let app = spawn_app().await;
    let inbound = patient_sends(&app, app.sandbox.user_text(PATIENT, "休診日はいつですか")).await;
    let msg = queued(&app, &inbound).await;
    // The job as an older release queued it: kind `line.reply`, its own payload.
    let legacy = json!({
        "message_id": msg.id,
        "channel_id": inbound.conversation.channel_id,
        "reply_token": inbound.reply_token,
        "reply_token_at_ms": inbound.reply_token_at,
        "messages": answer(),
    });
    sqlx::query(
        "UPDATE outbox_jobs SET kind = 'line.reply', payload = $1 WHERE kind = 'message.send'",
    )
    .bind(legacy.to_string())
    .execute(app.db.pool())
    .await
    .unwrap();
    app.run_jobs().await;
    assert_eq!(app.sandbox.calls_to(REPLY), 1);
    assert_eq!(app.sandbox.calls_to(PUSH), 0);
    assert_eq!(app.sandbox.delivered_to(PATIENT), answer());
    assert_eq!(status_of(&app, &msg.id).await, ("sent".into(), None));
    let state: String =
        sqlx::query_scalar("SELECT state FROM outbox_jobs WHERE kind = 'line.reply'")
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    assert_eq!(state, "done");
}
