//! Ingest throughput per channel: signed webhooks (LINE, WhatsApp, Messenger, SMS) into tsunagu
//! on SQLite (WAL, synchronous=FULL, as configured), each beside a FLOOR measured in the same
//! run — a bare axum server that verifies the same signature, parses the same body and commits
//! one row per request to its own SQLite file with the same pragmas, the simplest durable
//! server. Both are driven by the same in-process load generator over loopback, 32 connections.
//! Afterwards every delivery answered 200 must be stored exactly once (rows are counted).
//!
//! Run: `cargo bench -p tsunagu --bench ingest` (every channel), or name channels:
//! `cargo bench -p tsunagu --bench ingest -- whatsapp sms`.
//! BENCH_REQUESTS (default 5000 per channel) and BENCH_SECONDS (default 30) bound each run.
#[path = "ingest/app.rs"]
mod app;
#[path = "ingest/deliveries.rs"]
mod deliveries;
#[path = "ingest/floor.rs"]
mod floor;
#[path = "ingest/load.rs"]
mod load;

use std::path::Path;
use std::time::Duration;

use tsunagu_core::{ChannelKind, Clock, SystemClock};

use deliveries::USERS;
use load::{drive, Stats, CONNECTIONS};

fn main() -> anyhow::Result<()> {
    let kinds = selected_channels()?;
    let requests = env_number("BENCH_REQUESTS", 5_000);
    let limit = Duration::from_secs(env_number("BENCH_SECONDS", 30) as u64);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let dir = std::env::temp_dir().join(format!("tsunagu-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let result = rt.block_on(run(&dir, &kinds, requests, limit));
    let _ = std::fs::remove_dir_all(&dir);
    result
}

/// The channels named on the command line (cargo adds `--bench`, skipped), or all of them.
fn selected_channels() -> anyhow::Result<Vec<ChannelKind>> {
    let mut kinds = Vec::new();
    for arg in std::env::args().skip(1).filter(|a| !a.starts_with('-')) {
        let kind = ChannelKind::parse(&arg).ok_or_else(|| {
            anyhow::anyhow!("unknown channel {arg:?}: expected line, whatsapp, messenger or sms")
        })?;
        if !kinds.contains(&kind) {
            kinds.push(kind);
        }
    }
    Ok(if kinds.is_empty() {
        ChannelKind::ALL.to_vec()
    } else {
        kinds
    })
}

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// One channel's figures for one server, and whether its rows add up.
struct Measured {
    kind: ChannelKind,
    server: &'static str,
    stats: Stats,
    /// `None` when every delivery answered 200 is stored exactly once; else what is wrong.
    problem: Option<String>,
}

async fn run(
    dir: &Path,
    kinds: &[ChannelKind],
    requests: usize,
    limit: Duration,
) -> anyhow::Result<()> {
    let names: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
    println!(
        "ingest: {requests} signed text webhooks per channel (at most {}s) per server, channels {}, \
         {CONNECTIONS} connections, {USERS} patients per channel, SQLite WAL synchronous=FULL in {}",
        limit.as_secs(),
        names.join(", "),
        dir.display()
    );
    let floor = floor::Floor::start(dir).await?;
    let app = app::App::start(dir).await?;
    let mut rows = Vec::new();
    for &kind in kinds {
        let now = SystemClock.now_ms();

        let url = floor.url(kind);
        let warm = drive(&url, deliveries::build(kind, &url, 0, USERS, now), limit).await;
        let stats = drive(
            &url,
            deliveries::build(kind, &url, USERS, requests, now),
            limit,
        )
        .await;
        let (all, distinct) = floor.stored(kind).await?;
        let problem = check(&warm, &stats, &[("rows", all), ("distinct ids", distinct)]);
        rows.push(Measured {
            kind,
            server: "floor (bare axum + SQLite)",
            stats,
            problem,
        });

        let channel = app.connect(kind).await?;
        let url = channel.webhook_url.clone();
        let warm = drive(&url, deliveries::build(kind, &url, 0, USERS, now), limit).await;
        let stats = drive(
            &url,
            deliveries::build(kind, &url, USERS, requests, now),
            limit,
        )
        .await;
        let (events, distinct, messages) = app.stored(&channel).await?;
        let counts = [
            ("processed events", events),
            ("distinct ids", distinct),
            ("inbound messages", messages),
        ];
        let problem = check(&warm, &stats, &counts);
        rows.push(Measured {
            kind,
            server: "tsunagu",
            stats,
            problem,
        });
    }
    report(&rows)
}

/// Every delivery posted must have been answered 200 and stored once: each count equals the
/// deliveries answered 200 (warm-up and measured).
fn check(warm: &Stats, measured: &Stats, counts: &[(&str, i64)]) -> Option<String> {
    let answered = (warm.ok() + measured.ok()) as i64;
    let mut wrong: Vec<String> = counts
        .iter()
        .filter(|(_, n)| *n != answered)
        .map(|(what, n)| format!("{n} {what}"))
        .collect();
    if warm.errors + measured.errors > 0 {
        wrong.push(format!(
            "{} deliveries not answered 200",
            warm.errors + measured.errors
        ));
    }
    (!wrong.is_empty()).then(|| format!("{} for {answered} answered 200", wrong.join(", ")))
}

fn report(rows: &[Measured]) -> anyhow::Result<()> {
    println!(
        "\n{:<10} {:<28} {:>11} {:>8} {:>8} {:>7} {:>6}  stored once",
        "channel", "server", "webhooks/s", "p50 ms", "p99 ms", "sent", "errors"
    );
    for r in rows {
        let s = &r.stats;
        println!(
            "{:<10} {:<28} {:>11.0} {:>8.2} {:>8.2} {:>7} {:>6}  {}",
            r.kind.as_str(),
            r.server,
            s.rate(),
            s.pct(0.5),
            s.pct(0.99),
            s.ok(),
            s.errors,
            r.problem
                .as_deref()
                .map_or("yes".to_owned(), |p| format!("NO: {p}"))
        );
    }
    println!();
    for pair in rows.chunks(2) {
        if let [floor, ours] = pair {
            println!(
                "{:<10} tsunagu / floor: {:.2}x throughput, p50 {:.2} ms vs {:.2} ms, p99 {:.2} ms vs {:.2} ms",
                ours.kind.as_str(),
                ours.stats.rate() / floor.stats.rate().max(f64::MIN_POSITIVE),
                ours.stats.pct(0.5),
                floor.stats.pct(0.5),
                ours.stats.pct(0.99),
                floor.stats.pct(0.99)
            );
        }
    }
    anyhow::ensure!(
        rows.iter().all(|r| r.problem.is_none()),
        "deliveries lost, duplicated or refused: see `stored once` above"
    );
    Ok(())
}
