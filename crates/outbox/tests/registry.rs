//! The job registry: each kind runs its handler with its typed payload; a kind nobody handles,
//! or a payload that does not read as its kind's type, is dead with a reason (no panic, no
//! retries); daily kinds are enqueued by their handler.
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sqlx::AnyConnection;
use tsunagu_core::jobs::JobPayload;
use tsunagu_core::FakeClock;
use tsunagu_outbox::worker::Outcome;
use tsunagu_outbox::{JobHandler, Registry, Worker, WorkerConfig};
use tsunagu_store::jobs::{self, Enqueue, Job};
use tsunagu_store::Db;
use tsunagu_testkit::test_db;

#[derive(Serialize, Deserialize)]
struct Ping {
    note: String,
}

impl JobPayload for Ping {
    const KIND: &'static str = "test.ping";
}

/// Another crate's idea of `test.ping`, with a shape the handler does not read.
#[derive(Serialize, Deserialize)]
struct MisshapenPing {
    count: i64,
}

impl JobPayload for MisshapenPing {
    const KIND: &'static str = "test.ping";
}

#[derive(Serialize, Deserialize)]
struct Orphan {}

impl JobPayload for Orphan {
    const KIND: &'static str = "test.orphan";
}

#[derive(Clone, Default)]
struct PingHandler {
    seen: Arc<Mutex<Vec<String>>>,
}

#[async_trait::async_trait]
impl JobHandler for PingHandler {
    type Job = Ping;

    async fn run(&self, _: &Worker, _: &Job, p: Ping) -> anyhow::Result<Outcome> {
        self.seen
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(p.note);
        Ok(Outcome::Done)
    }

    async fn schedule_daily(&self, conn: &mut AnyConnection, now_ms: i64) -> anyhow::Result<()> {
        let ping = Ping {
            note: "daily".into(),
        };
        let key = format!("ping:{}", now_ms / 86_400_000);
        enqueue(conn, &ping, &key, now_ms).await
    }
}

fn worker(db: Db, registry: Registry) -> Worker {
    let clock = FakeClock::new(tsunagu_core::clock::from_ms(1_700_000_000_000));
    Worker {
        db,
        clock: Arc::new(clock),
        cipher: tsunagu_privacy::Cipher::new(&[7u8; 32]),
        http: reqwest::Client::new(),
        config: WorkerConfig {
            poll: Duration::from_millis(1),
            ..WorkerConfig::default()
        },
        on_change: Arc::new(|_, _| {}),
        public_base: "http://localhost".into(),
        handlers: Arc::new(registry),
    }
}

async fn enqueue<J: JobPayload>(
    conn: &mut AnyConnection,
    payload: &J,
    key: &str,
    now_ms: i64,
) -> anyhow::Result<()> {
    let at = Enqueue {
        clinic_id: None,
        idempotency_key: key,
        run_at: now_ms,
    };
    jobs::enqueue(conn, payload, at, now_ms).await?;
    Ok(())
}

async fn job(db: &Db, key: &str) -> anyhow::Result<Job> {
    let mut conn = db.pool().acquire().await?;
    jobs::by_key(&mut conn, key)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no job {key}"))
}

#[tokio::test]
async fn a_kind_runs_its_handler_and_the_rest_are_dead_with_a_reason() -> anyhow::Result<()> {
    let t = test_db().await;
    let ping = PingHandler::default();
    let mut registry = Registry::default();
    registry.register(ping.clone());
    let w = worker(t.db.clone(), registry);
    let now = w.clock.now_ms();
    {
        let mut conn = t.db.pool().acquire().await?;
        let hello = Ping {
            note: "hello".into(),
        };
        enqueue(&mut conn, &hello, "ok", now).await?;
        enqueue(&mut conn, &MisshapenPing { count: 1 }, "misshapen", now).await?;
        enqueue(&mut conn, &Orphan {}, "orphan", now).await?;
    }
    assert_eq!(w.run_until_idle().await?, 3);
    assert_eq!(
        *ping.seen.lock().unwrap_or_else(|e| e.into_inner()),
        ["hello"]
    );
    assert_eq!(job(&t.db, "ok").await?.state, "done");
    for (key, reason) in [
        ("misshapen", "does not read as its type"),
        ("orphan", "no handler is registered"),
    ] {
        let j = job(&t.db, key).await?;
        assert_eq!((j.state.as_str(), j.attempts), ("dead", 1), "{key}");
        let error = j.last_error.unwrap_or_default();
        assert!(error.contains(reason), "{key}: {error}");
    }
    Ok(())
}

#[tokio::test]
async fn a_daily_kind_is_enqueued_by_its_handler_and_run() -> anyhow::Result<()> {
    let t = test_db().await;
    let ping = PingHandler::default();
    let mut registry = Registry::default();
    registry.register(ping.clone());
    let w = worker(t.db.clone(), registry);
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let run = tokio::spawn(w.run(stopped));
    // Stopped once the daily job ran (a worker told to stop claims nothing more).
    tokio::time::timeout(Duration::from_secs(30), async {
        while ping
            .seen
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_empty()
        {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await?;
    stop.send(true)?;
    tokio::time::timeout(Duration::from_secs(30), run).await??;
    assert_eq!(
        *ping.seen.lock().unwrap_or_else(|e| e.into_inner()),
        ["daily"]
    );
    Ok(())
}

#[test]
fn the_outbox_registers_each_of_its_kinds_once() {
    let kinds = tsunagu_outbox::handlers::registry().kinds();
    assert_eq!(
        kinds,
        [
            "channel.fetch_media",
            "channel.fetch_profile",
            "channel.mark_read",
            "channel.show_loading",
            "line.fetch_content",
            "line.fetch_profile",
            "line.reply",
            "message.send",
            "messenger.fetch_profile",
            "whatsapp.sync_templates",
        ]
    );
}

#[test]
#[should_panic(expected = "job kind test.ping has two handlers")]
fn a_kind_with_two_handlers_is_a_wiring_mistake() {
    let mut registry = Registry::default();
    registry
        .register(PingHandler::default())
        .register(PingHandler::default());
}
