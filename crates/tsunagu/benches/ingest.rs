//! Ingest throughput per channel: signed webhooks (LINE, WhatsApp, Messenger, SMS) into tsunagu
//! on SQLite (WAL, every answer given once its commit is on disk, as configured), each beside a
//! FLOOR measured in the same run — a bare axum server that verifies the same signature, parses
//! the same body and commits one row per request to its own SQLite file (WAL,
//! `synchronous=FULL`), the simplest durable server — and, for LINE, beside a PEER: LINE's
//! Python SDK behind FastAPI storing each event in SQLite (`ingest/peer_line.py`, when python3
//! has the packages). With `BENCH_DATABASE_URL` (or
//! `TEST_DATABASE_URL`) naming a PostgreSQL server, tsunagu is measured on it too, on a fresh
//! database, and for LINE also as three instances sharing that database (the connections spread
//! over them, as behind a load balancer). Every server is driven by the same in-process load generator over loopback, 32
//! connections. Afterwards every delivery answered 200 must be stored exactly once (rows are
//! counted).
//!
//! Run: `cargo bench -p tsunagu --bench ingest` (every channel), or name channels:
//! `cargo bench -p tsunagu --bench ingest -- whatsapp sms`.
//! BENCH_REQUESTS (default 5000 per channel) and BENCH_SECONDS (default 30) bound each run;
//! the servers of a channel are measured in turn, BENCH_ROUNDS (default 3) times each with a
//! share of the deliveries (`ingest/rounds.rs`), so a drifting disk weighs on all alike.
//! `BENCH_SERVERS=tsunagu` measures tsunagu alone (no floor, no peer: no ratios), for a profiler:
//! `BENCH_SERVERS=tsunagu BENCH_REQUESTS=1000 valgrind --tool=callgrind <bench binary> --bench line`
//! counts the instructions of tsunagu's path (and of the load generator, in its own functions).
//! `BENCH_LOG=tsunagu_store::group=debug` prints tsunagu's log lines at that filter to stderr
//! (each group commit's size and where its time went).
#[path = "ingest/app.rs"]
mod app;
#[path = "ingest/deliveries.rs"]
mod deliveries;
#[path = "ingest/floor.rs"]
mod floor;
#[path = "ingest/load.rs"]
mod load;
#[path = "ingest/peer.rs"]
mod peer;
#[path = "ingest/report.rs"]
mod report;
#[path = "ingest/rounds.rs"]
mod rounds;

use std::path::Path;
use std::time::Duration;

use tsunagu_channels::ChannelKind;
use tsunagu_core::{Clock, SystemClock};

use deliveries::USERS;
use load::CONNECTIONS;
use report::Server;
use rounds::{Measuring, Target};

/// The binary's allocator (`src/main.rs`), so tsunagu is measured as it runs (the floor in the
/// same process gets it too).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> anyhow::Result<()> {
    if let Ok(filter) = std::env::var("BENCH_LOG") {
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
            .with_writer(std::io::stderr)
            .init();
    }
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

async fn run(
    dir: &Path,
    kinds: &[ChannelKind],
    requests: usize,
    limit: Duration,
) -> anyhow::Result<()> {
    let names: Vec<&str> = kinds.iter().map(|k| k.as_str()).collect();
    println!(
        "ingest: {requests} signed text webhooks per channel (at most {}s) per server, channels {}, \
         {CONNECTIONS} connections, {USERS} patients per channel, SQLite WAL, durable commits, in {}",
        limit.as_secs(),
        names.join(", "),
        dir.display()
    );
    let alone = std::env::var("BENCH_SERVERS").is_ok_and(|v| v == "tsunagu");
    let floor = match alone {
        true => None,
        false => Some(floor::Floor::start(dir).await?),
    };
    let app = app::App::sqlite(dir).await?;
    let postgres = postgres_app().await;
    // Issue 10: the same LINE load spread over three instances on that PostgreSQL database.
    let more = match &postgres {
        Some(pg) if kinds.contains(&ChannelKind::Line) => pg.more_instances(2).await?,
        _ => Vec::new(),
    };
    let mut peer = match kinds.contains(&ChannelKind::Line) && !alone {
        true => match peer::Peer::start(dir).await {
            Ok(p) => Some(p),
            Err(why) => {
                println!(
                    "\n!!! NO LINE PEER: {why}; the LINE row has no tsunagu/peer ratio \
                     (pip install line-bot-sdk fastapi uvicorn) !!!\n"
                );
                None
            }
        },
        false => None,
    };
    let rounds = env_number("BENCH_ROUNDS", 3);
    let mut rows = Vec::new();
    for &kind in kinds {
        let now = SystemClock.now_ms();
        let mut servers = Vec::new();
        if let Some(floor) = &floor {
            servers.push(Measuring::new(Server::Floor, Target::Floor(floor), kind));
        }
        let channel = app.connect(kind).await?;
        servers.push(Measuring::new(
            Server::Tsunagu,
            Target::App(&app, channel),
            kind,
        ));
        if let Some(pg) = &postgres {
            let channel = pg.connect(kind).await?;
            let target = Target::App(pg, channel);
            servers.push(Measuring::new(Server::TsunaguPostgres, target, kind));
            if kind == ChannelKind::Line && !more.is_empty() {
                // A channel of its own, so each row's stored rows are its own.
                let channel = pg.connect(kind).await?;
                let target = Target::Instances(pg, channel, more.clone());
                servers.push(Measuring::new(
                    Server::TsunaguPostgresInstances,
                    target,
                    kind,
                ));
            }
        }
        if let (ChannelKind::Line, Some(p)) = (kind, &peer) {
            servers.push(Measuring::new(Server::Peer, Target::Peer(p), kind));
        }
        rows.extend(rounds::measure(kind, servers, requests, rounds, limit, now).await?);
    }
    if let Some(p) = &mut peer {
        p.stop();
    }
    if let Some(pg) = postgres {
        pg.finish().await?;
    }
    report::print(kinds, &rows)
}

/// Tsunagu on PostgreSQL when a server is named, else `None` (said once, not an error).
async fn postgres_app() -> Option<app::App> {
    let url = ["BENCH_DATABASE_URL", "TEST_DATABASE_URL"]
        .iter()
        .find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()));
    let Some(url) = url else {
        println!("(no BENCH_DATABASE_URL or TEST_DATABASE_URL: no PostgreSQL rows)");
        return None;
    };
    match app::App::postgres(&url).await {
        Ok(app) => Some(app),
        Err(e) => {
            println!("\n!!! NO POSTGRESQL ROWS: {e:#} !!!\n");
            None
        }
    }
}
