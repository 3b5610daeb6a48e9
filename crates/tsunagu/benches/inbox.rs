//! The inbox at a million messages (issue 11): over HTTP on loopback against this (release)
//! build, with 1,000,000 messages in 100,000 conversations of a realistic Japanese clinic
//! (`tsunagu_testkit::corpus`), on SQLite and, with `BENCH_DATABASE_URL` or
//! `TEST_DATABASE_URL`, on PostgreSQL (a fresh database, dropped afterwards):
//! 1. the first page (50 rows) of each fixed view, as staff open it, beside the bare indexed
//!    query behind its rows and an HTTP floor (`GET /healthz`), all in the same run;
//! 2. the search mix (`GET /api/v1/search`), beside the bare index query of its messages;
//! 3. the same first pages while 50 staff hold the live stream and LINE webhooks arrive at
//!    200/s (every one answered 200 must be stored).
//!
//! Run: `cargo bench -p tsunagu --bench inbox`. Knobs: BENCH_MESSAGES (1,000,000),
//! BENCH_CONVERSATIONS (100,000), BENCH_REQUESTS per view or term (200), BENCH_STORM_SECONDS
//! (30), BENCH_RATE (200 webhooks/s); BENCH_CORPUS_DIR keeps the SQLite corpus there and reuses
//! it on the next run (generation takes minutes); BENCH_SQLITE=0 skips SQLite; BENCH_ONLY
//! (`views`, `search` or `storm`) runs one part; BENCH_LOG (a tracing filter, e.g.
//! `sqlx=info` for every statement and its time) prints tsunagu's log to stderr.
#[path = "inbox/measure.rs"]
mod measure;
#[path = "inbox/searches.rs"]
mod searches;
#[path = "inbox/setup.rs"]
mod setup;
#[path = "inbox/storm.rs"]
mod storm;
#[path = "inbox/views.rs"]
mod views;

use anyhow::Context;
use sqlx::{Connection, Executor};
use tsunagu_core::{Clock, SystemClock};
use tsunagu_testkit::corpus::Spec;

use measure::Sample;

/// The binary's allocator, so tsunagu is measured as it runs.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const VIEW_P99_MS: f64 = 20.0;
const SEARCH_P99_MS: f64 = 100.0;
const STORM_P99_MS: f64 = 50.0;

fn main() -> anyhow::Result<()> {
    if let Ok(filter) = std::env::var("BENCH_LOG") {
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
            .with_writer(std::io::stderr)
            .init();
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(run())
}

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(default)
}

async fn run() -> anyhow::Result<()> {
    let mut spec = Spec::million(SystemClock.now_ms());
    spec.messages = env_number("BENCH_MESSAGES", spec.messages);
    spec.conversations = env_number("BENCH_CONVERSATIONS", spec.conversations);
    spec.notes = spec.notes.min(spec.conversations / 5);
    let requests = env_number("BENCH_REQUESTS", 200);
    let storm_seconds = env_number("BENCH_STORM_SECONDS", 30) as u64;
    let rate = env_number("BENCH_RATE", 200) as u64;
    println!(
        "tsunagu inbox bench: {} messages in {} conversations; {requests} requests per view or term; \
         storm {storm_seconds} s at {rate} webhooks/s with {} live streams",
        spec.messages,
        spec.conversations,
        setup::STAFF
    );
    if std::env::var("BENCH_SQLITE").as_deref() != Ok("0") {
        let kept = std::env::var("BENCH_CORPUS_DIR")
            .ok()
            .map(std::path::PathBuf::from);
        let dir = kept.clone().unwrap_or_else(|| {
            std::env::temp_dir().join(format!("tsunagu-inbox-bench-{}", std::process::id()))
        });
        std::fs::create_dir_all(&dir)?;
        let result = backend(
            "SQLite",
            &setup::sqlite_url(&dir),
            &spec,
            requests,
            storm_seconds,
            rate,
        )
        .await;
        if kept.is_none() {
            let _ = std::fs::remove_dir_all(&dir);
        }
        result?;
    }
    let pg = std::env::var("BENCH_DATABASE_URL")
        .or_else(|_| std::env::var("TEST_DATABASE_URL"))
        .ok();
    if let Some(server) = pg {
        let name = format!("tsunagu_inbox_bench_{}", std::process::id());
        let mut admin = sqlx::PgConnection::connect(&server)
            .await
            .context("connecting to PostgreSQL for the bench")?;
        admin
            .execute(format!("CREATE DATABASE {name}").as_str())
            .await?;
        admin.close().await?;
        let mut url = url::Url::parse(&server)?;
        url.set_path(&format!("/{name}"));
        let result = backend(
            "PostgreSQL",
            url.as_str(),
            &spec,
            requests,
            storm_seconds,
            rate,
        )
        .await;
        let mut admin = sqlx::PgConnection::connect(&server).await?;
        admin
            .execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
            .await?;
        result?;
    }
    Ok(())
}

async fn backend(
    label: &str,
    url: &str,
    spec: &Spec,
    requests: usize,
    storm_seconds: u64,
    rate: u64,
) -> anyhow::Result<()> {
    println!("\n== {label}");
    let c = setup::start(url, spec).await?;
    match &c.corpus {
        Some(s) => println!(
            "corpus written: {} patients, {} conversations ({} open), {} messages, {} notes in {:.0} s",
            s.patients, s.conversations, s.open, s.messages, s.notes, s.seconds
        ),
        None => println!("corpus reused from BENCH_CORPUS_DIR"),
    }
    if let Some(s) = &c.corpus {
        let steps: Vec<String> = s
            .steps
            .iter()
            .map(|(n, t)| format!("{n} {t:.1} s"))
            .collect();
        println!("  ({})", steps.join(", "));
    }
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()?;
    let health = format!("{}/healthz", c.base);
    let http_floor = measure::time(20, requests, || measure::get(&http, &health, None, None)).await;
    println!(
        "HTTP floor (GET /healthz): p50 {:.2} ms, p99 {:.2} ms",
        http_floor.p(0.5),
        http_floor.p(0.99)
    );

    let only = std::env::var("BENCH_ONLY").ok();
    let part = |p: &str| only.as_deref().is_none_or(|o| o == p);
    let views = views::fixed_set(&c).await?;
    if part("views") {
        first_pages(&c, &http, &views, requests).await?;
    }
    if part("search") {
        search(&c, &http, requests).await?;
    }
    if part("storm") {
        storm(&c, &http, &views, rate, storm_seconds).await?;
    }
    c.db.close().await;
    Ok(())
}

async fn first_pages(
    c: &setup::Clinic,
    http: &reqwest::Client,
    views: &[views::View],
    requests: usize,
) -> anyhow::Result<()> {
    println!("\nfirst pages (50 rows), target p99 <= {VIEW_P99_MS} ms");
    println!(
        "{:<28} {:>9} {:>9} {:>14} {:>7}",
        "view", "p50 ms", "p99 ms", "query p99 ms", "errors"
    );
    let mut worst_view = 0f64;
    for v in views {
        let page = views::page(c, http, v, requests).await;
        let floor = views::floor(c, v, requests).await?;
        worst_view = worst_view.max(page.p(0.99));
        println!(
            "{:<28} {:>9.2} {:>9.2} {:>14.2} {:>7}",
            v.name,
            page.p(0.5),
            page.p(0.99),
            floor.p(0.99),
            page.errors
        );
    }
    verdict("views", worst_view, VIEW_P99_MS);
    Ok(())
}

async fn search(c: &setup::Clinic, http: &reqwest::Client, requests: usize) -> anyhow::Result<()> {
    println!("\nsearch (GET /api/v1/search), target p99 <= {SEARCH_P99_MS} ms");
    println!(
        "{:<24} {:>9} {:>9} {:>14} {:>7} {:>7}",
        "term", "p50 ms", "p99 ms", "query p99 ms", "found", "errors"
    );
    let mut all = Sample::default();
    for (name, q) in searches::mix(c).await? {
        let s = searches::api(c, http, &q, requests / 2).await?;
        let (floor, found) = searches::floor(c, &q, requests / 2).await?;
        println!(
            "{:<24} {:>9.2} {:>9.2} {:>14.2} {:>7} {:>7}",
            name,
            s.p(0.5),
            s.p(0.99),
            floor.p(0.99),
            found,
            s.errors
        );
        all.add(&s);
    }
    println!("{:<24} {:>9.2} {:>9.2}", "the mix", all.p(0.5), all.p(0.99));
    verdict("search", all.p(0.99), SEARCH_P99_MS);
    Ok(())
}

async fn storm(
    c: &setup::Clinic,
    http: &reqwest::Client,
    views: &[views::View],
    rate: u64,
    storm_seconds: u64,
) -> anyhow::Result<()> {
    println!(
        "\nunder load: {} live streams, LINE webhooks at {rate}/s for {storm_seconds} s; target p99 <= {STORM_P99_MS} ms",
        setup::STAFF
    );
    let s = storm::run(c, http, views, rate, storm_seconds).await?;
    let mut worst = 0f64;
    for (v, sample) in views.iter().zip(&s.views) {
        worst = worst.max(sample.p(0.99));
        println!(
            "{:<28} {:>9.2} {:>9.2} {:>7} errors, {} requests",
            v.name,
            sample.p(0.5),
            sample.p(0.99),
            sample.errors,
            sample.ms.len()
        );
    }
    let answered = s.webhooks.ms.len() - s.webhooks.errors;
    println!(
        "webhooks: {} sent in {:.1} s ({:.0}/s), {} answered 200, {} stored, p99 {:.2} ms; \
         {} of {} streams open, {} events delivered to them",
        s.webhooks.ms.len(),
        s.seconds,
        s.webhooks.ms.len() as f64 / s.seconds,
        answered,
        s.webhooks_stored,
        s.webhooks.p(0.99),
        s.streams_open,
        setup::STAFF,
        s.events
    );
    if s.webhooks_stored != answered as i64 {
        println!(
            "!! {answered} webhooks answered 200 but {} stored",
            s.webhooks_stored
        );
    }
    verdict("views under load", worst, STORM_P99_MS);
    Ok(())
}

fn verdict(what: &str, p99: f64, target: f64) {
    let mark = if p99 <= target { "met" } else { "NOT met" };
    println!("-> {what}: worst p99 {p99:.2} ms, target {target} ms: {mark}");
}
