//! Ingest throughput: signed LINE webhooks into tsunagu on SQLite (synchronous=FULL, as
//! configured), beside a FLOOR — a bare axum server that verifies the signature and commits one
//! row per request to its own SQLite file with the same pragmas, the simplest durable server.
//! Both are driven by the same in-process load generator over loopback, 32 connections.
//!
//! Run: `cargo bench -p tsunagu --bench ingest`
//! (BENCH_REQUESTS, default 20000, and BENCH_SECONDS, default 30, bound each measured run.)
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde_json::json;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;
use tokio::net::TcpListener;
use tsunagu_channels::line::{events, signature};
use tsunagu_core::config::Settings;
use tsunagu_core::{Clock, SystemClock};
use tsunagu_store::{channels, Db};

const SECRET: &str = "8c570fa6dd201bb328f1c1eac23a96d8";
const CONNECTIONS: usize = 32;
/// Distinct patients writing in; each is created by the warm-up, so the measured run is the
/// steady state of returning patients.
const USERS: usize = 500;

fn main() -> anyhow::Result<()> {
    let requests = env_number("BENCH_REQUESTS", 20_000);
    let seconds = env_number("BENCH_SECONDS", 30);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let dir = std::env::temp_dir().join(format!("tsunagu-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let result = rt.block_on(run(&dir, requests, Duration::from_secs(seconds as u64)));
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

async fn run(dir: &std::path::Path, requests: usize, limit: Duration) -> anyhow::Result<()> {
    println!(
        "ingest: {requests} signed LINE text webhooks (at most {}s) per server, {CONNECTIONS} connections, \
         {USERS} patients, SQLite WAL synchronous=FULL in {}",
        limit.as_secs(),
        dir.display()
    );
    let now = SystemClock.now_ms();
    let warmup = bodies(0, USERS, now);
    let measured = bodies(USERS, requests, now);

    let floor_url = start_floor(dir).await?;
    drive(&floor_url, &warmup, limit).await;
    let floor = drive(&floor_url, &measured, limit).await;

    let tsunagu_url = start_tsunagu(dir).await?;
    drive(&tsunagu_url, &warmup, limit).await;
    let ours = drive(&tsunagu_url, &measured, limit).await;

    println!(
        "{:<28} {:>12} {:>9} {:>9} {:>8} {:>7}",
        "server", "webhooks/s", "p50 ms", "p99 ms", "sent", "errors"
    );
    floor.print("floor (bare axum + SQLite)");
    ours.print("tsunagu");
    println!(
        "tsunagu / floor: {:.2}x throughput, p99 {:.1} ms vs {:.1} ms",
        ours.rate() / floor.rate().max(f64::MIN_POSITIVE),
        ours.pct(0.99),
        floor.pct(0.99)
    );
    Ok(())
}

/// `count` signed webhook bodies, one text-message event each, with unique event ids.
fn bodies(first: usize, count: usize, now_ms: i64) -> Vec<(Vec<u8>, String)> {
    (first..first + count)
        .map(|i| {
            let event = json!({
                "type": "message", "mode": "active", "timestamp": now_ms,
                "webhookEventId": format!("01BENCH{i:019}"),
                "deliveryContext": {"isRedelivery": false},
                "source": {"type": "user", "userId": format!("U{:032x}", i % USERS)},
                "replyToken": format!("{:032x}", i),
                "message": {"id": format!("{}", 500_000_000_000_000_000u64 + i as u64), "type": "text",
                            "quoteToken": format!("q{i}"), "text": "明日の予約を変更したいのですが、午後は空いていますか？"}
            });
            let body = json!({"destination": "U0123456789abcdef0123456789abcdef", "events": [event]}).to_string();
            let sig = tsunagu_sandbox::line::sign(SECRET, body.as_bytes());
            (body.into_bytes(), sig)
        })
        .collect()
}

struct Stats {
    latencies_ms: Vec<f64>,
    errors: usize,
    elapsed: Duration,
}

impl Stats {
    fn rate(&self) -> f64 {
        self.latencies_ms.len() as f64 / self.elapsed.as_secs_f64()
    }
    fn pct(&self, q: f64) -> f64 {
        if self.latencies_ms.is_empty() {
            return f64::NAN;
        }
        let i = ((self.latencies_ms.len() as f64 - 1.0) * q).round() as usize;
        self.latencies_ms[i.min(self.latencies_ms.len() - 1)]
    }
    fn print(&self, name: &str) {
        println!(
            "{name:<28} {:>12.0} {:>9.2} {:>9.2} {:>8} {:>7}",
            self.rate(),
            self.pct(0.5),
            self.pct(0.99),
            self.latencies_ms.len(),
            self.errors
        );
    }
}

/// Posts every body once from `CONNECTIONS` concurrent clients; only 200s count as done.
async fn drive(url: &str, bodies: &[(Vec<u8>, String)], limit: Duration) -> Stats {
    let bodies: Arc<Vec<(Vec<u8>, String)>> = Arc::new(bodies.to_vec());
    let next = Arc::new(AtomicUsize::new(0));
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(CONNECTIONS)
        .build()
        .unwrap_or_default();
    let start = Instant::now();
    let deadline = start + limit;
    let tasks: Vec<_> = (0..CONNECTIONS)
        .map(|_| {
            let (bodies, next, http, url) =
                (bodies.clone(), next.clone(), http.clone(), url.to_string());
            tokio::spawn(async move {
                let (mut lat, mut errors) = (Vec::new(), 0usize);
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= bodies.len() || Instant::now() > deadline {
                        return (lat, errors);
                    }
                    let (body, sig) = &bodies[i];
                    let t0 = Instant::now();
                    let sent = http
                        .post(&url)
                        .header("content-type", "application/json; charset=utf-8")
                        .header("x-line-signature", sig)
                        .body(body.clone())
                        .send()
                        .await;
                    match sent {
                        Ok(r) if r.status() == StatusCode::OK => {
                            lat.push(t0.elapsed().as_secs_f64() * 1000.0)
                        }
                        _ => errors += 1,
                    }
                }
            })
        })
        .collect();
    let mut stats = Stats {
        latencies_ms: Vec::new(),
        errors: 0,
        elapsed: Duration::ZERO,
    };
    for t in tasks {
        if let Ok((lat, errors)) = t.await {
            stats.latencies_ms.extend(lat);
            stats.errors += errors;
        }
    }
    stats.elapsed = start.elapsed();
    stats.latencies_ms.sort_by(|a, b| a.total_cmp(b));
    stats
}

/// tsunagu itself: the real router and ingest, workers off (this measures the webhook path).
async fn start_tsunagu(dir: &std::path::Path) -> anyhow::Result<String> {
    let url = format!("sqlite://{}/tsunagu.db?mode=rwc", dir.display());
    let db = Db::connect_and_migrate(&url).await?;
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let mut settings = Settings {
        public_url: Some(format!("http://{addr}")),
        ..Settings::default()
    };
    settings.outbox.workers = false;
    let clock: tsunagu_core::SharedClock = Arc::new(SystemClock);
    let services = tsunagu::Services::with_db(db.clone(), settings, clock, &[7u8; 32]);
    let now = SystemClock.now_ms();
    let spec = tsunagu::admin::ClinicSpec {
        slug: "bench",
        name: "ベンチ内科",
        timezone: "Asia/Tokyo",
        locale: "ja",
        org: None,
    };
    let clinic = tsunagu::admin::create_clinic(&db, spec, now).await?;
    let creds = services
        .state
        .cipher
        .encrypt_json(&json!({"channel_secret": SECRET, "channel_access_token": "bench-token"}));
    let mut tx = db.begin().await?;
    let channel = channels::create(
        tx.conn(),
        channels::NewChannel {
            clinic_id: &clinic,
            kind: "line",
            name: "LINE",
            credentials_enc: &creds,
            // Nothing is sent: workers are off.
            api_base_url: "http://127.0.0.1:9",
            api_data_base_url: None,
            settings: "{}",
        },
        now,
    )
    .await?;
    tx.commit().await?;
    let (stop, rx) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        let _stop = stop; // serve until the benchmark process ends
        if let Err(e) = services.run(listener, rx).await {
            eprintln!("tsunagu stopped: {e:#}");
        }
    });
    Ok(format!("http://{addr}/webhooks/line/{channel}"))
}

/// The floor: verify, parse, insert the event once, commit, 200 — one commit per request.
async fn start_floor(dir: &std::path::Path) -> anyhow::Result<String> {
    let opts = SqliteConnectOptions::new()
        .filename(dir.join("floor.db"))
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .busy_timeout(Duration::from_secs(5));
    // One connection: SQLite has one writer, and the pool is the simplest queue in front of it.
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(opts)
        .await?;
    sqlx::query(
        "CREATE TABLE IF NOT EXISTS webhook_events (id INTEGER PRIMARY KEY, event_id TEXT NOT NULL UNIQUE,
         body TEXT NOT NULL, received_at INTEGER NOT NULL)",
    )
    .execute(&pool)
    .await
    .context("creating the floor's table")?;
    let app = axum::Router::new()
        .route("/webhook", axum::routing::post(floor_webhook))
        .with_state(pool);
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr: SocketAddr = listener.local_addr()?;
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            eprintln!("floor stopped: {e}");
        }
    });
    Ok(format!("http://{addr}/webhook"))
}

async fn floor_webhook(
    State(pool): State<SqlitePool>,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let sig = headers
        .get("x-line-signature")
        .and_then(|v| v.to_str().ok());
    if !signature::verify(SECRET, &body, sig) {
        return StatusCode::UNAUTHORIZED;
    }
    let Ok(parsed) = events::parse(&body) else {
        return StatusCode::BAD_REQUEST;
    };
    let Some(event) = parsed.events.first() else {
        return StatusCode::OK;
    };
    let stored = sqlx::query(
        "INSERT INTO webhook_events (event_id, body, received_at) VALUES ($1, $2, $3) ON CONFLICT (event_id) DO NOTHING",
    )
    .bind(&event.webhook_event_id)
    .bind(event.raw.to_string())
    .bind(SystemClock.now_ms())
    .execute(&pool)
    .await;
    match stored {
        Ok(_) => StatusCode::OK,
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}
