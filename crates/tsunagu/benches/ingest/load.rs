//! The load generator: every prepared delivery posted once from `CONNECTIONS` concurrent
//! clients over loopback; a delivery counts as done only when it is answered 200.
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::http::StatusCode;

pub const CONNECTIONS: usize = 32;

/// One signed webhook delivery, ready to post: the exact bytes and the headers the provider
/// would send with them.
#[derive(Clone)]
pub struct Delivery {
    pub body: Bytes,
    pub content_type: &'static str,
    pub headers: Vec<(&'static str, String)>,
}

pub struct Stats {
    /// One entry per delivery answered 200, sorted.
    pub latencies_ms: Vec<f64>,
    /// Deliveries answered otherwise, or not answered.
    pub errors: usize,
    pub elapsed: Duration,
}

impl Stats {
    pub fn empty() -> Stats {
        Stats {
            latencies_ms: Vec::new(),
            errors: 0,
            elapsed: Duration::ZERO,
        }
    }

    /// Several rounds as one: every latency, every error, the time of all of them.
    pub fn sum(rounds: Vec<Stats>) -> Stats {
        let mut all = Stats::empty();
        for r in rounds {
            all.latencies_ms.extend(r.latencies_ms);
            all.errors += r.errors;
            all.elapsed += r.elapsed;
        }
        all.latencies_ms.sort_by(f64::total_cmp);
        all
    }

    pub fn ok(&self) -> usize {
        self.latencies_ms.len()
    }

    pub fn rate(&self) -> f64 {
        self.ok() as f64 / self.elapsed.as_secs_f64()
    }

    pub fn pct(&self, q: f64) -> f64 {
        if self.latencies_ms.is_empty() {
            return f64::NAN;
        }
        let i = ((self.latencies_ms.len() as f64 - 1.0) * q).round() as usize;
        self.latencies_ms[i.min(self.latencies_ms.len() - 1)]
    }
}

/// Posts every delivery once (stopping early at `limit`), the connections spread over `urls`
/// (one server, or several instances as behind a load balancer).
pub async fn drive_spread(urls: &[String], deliveries: Vec<Delivery>, limit: Duration) -> Stats {
    let deliveries = Arc::new(deliveries);
    let next = Arc::new(AtomicUsize::new(0));
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(CONNECTIONS)
        .build()
        .unwrap_or_default();
    let start = Instant::now();
    let deadline = start + limit;
    let tasks: Vec<_> = (0..CONNECTIONS)
        .map(|c| {
            let (deliveries, next, http, url) = (
                deliveries.clone(),
                next.clone(),
                http.clone(),
                urls[c % urls.len()].clone(),
            );
            tokio::spawn(async move {
                let (mut lat, mut errors) = (Vec::new(), 0usize);
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= deliveries.len() || Instant::now() > deadline {
                        return (lat, errors);
                    }
                    let d = &deliveries[i];
                    let mut req = http
                        .post(&url)
                        .header("content-type", d.content_type)
                        .body(d.body.clone());
                    for (name, value) in &d.headers {
                        req = req.header(*name, value);
                    }
                    let t0 = Instant::now();
                    match req.send().await {
                        Ok(r) if r.status() == StatusCode::OK => {
                            // Read the answer to the end so the connection is reused.
                            let _ = r.bytes().await;
                            lat.push(t0.elapsed().as_secs_f64() * 1000.0);
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
