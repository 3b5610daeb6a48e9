//! Under load: 50 staff hold the live inbox stream (`GET /app/live`, events read as they come)
//! while LINE webhooks arrive at a steady 200/s from the corpus's LINE patients (signed as
//! LINE signs them), and the fixed views' first pages are timed meanwhile. Every webhook
//! answered 200 must be stored; each stream must have seen the new messages.
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;
use tsunagu_core::{Clock, SystemClock};
use tsunagu_sandbox::line;

use crate::measure::{self, Sample};
use crate::setup::{Clinic, LINE_SECRET};
use crate::views::View;

pub struct Storm {
    pub views: Vec<Sample>,
    pub webhooks: Sample,
    pub webhooks_stored: i64,
    pub streams_open: usize,
    /// Events the streams received, over all of them.
    pub events: usize,
    pub seconds: f64,
}

pub async fn run(
    c: &Clinic,
    http: &reqwest::Client,
    views: &[View],
    rate: u64,
    seconds: u64,
) -> anyhow::Result<Storm> {
    let events = Arc::new(AtomicUsize::new(0));
    let open = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(tokio::sync::Notify::new());
    let mut streams = Vec::new();
    for (_, cookie) in &c.staff {
        let req = http
            .get(format!("{}/app/live", c.base))
            .header("cookie", format!("tsunagu_session={cookie}"));
        let (events, open, stop) = (events.clone(), open.clone(), stop.clone());
        streams.push(tokio::spawn(async move {
            let Ok(mut resp) = req.send().await else {
                return;
            };
            if !resp.status().is_success() {
                return;
            }
            open.fetch_add(1, Ordering::Relaxed);
            loop {
                tokio::select! {
                    chunk = resp.chunk() => match chunk {
                        Ok(Some(b)) => {
                            let n = b.windows(12).filter(|w| w == b"event: inbox").count();
                            events.fetch_add(n, Ordering::Relaxed);
                        }
                        _ => return,
                    },
                    _ = stop.notified() => return,
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let senders: Vec<String> = sqlx::query_scalar(
        "SELECT external_id FROM channel_identities WHERE channel_id = $1 ORDER BY external_id LIMIT 5000",
    )
    .bind(&c.line_channel)
    .fetch_all(c.db.pool())
    .await?;
    anyhow::ensure!(!senders.is_empty(), "the corpus has no LINE patients");

    // This run's own event ids: a kept corpus has the last run's, and a redelivery is stored
    // once and publishes nothing.
    let run = SystemClock.now_ms() % 1_000_000_000;
    let started = Instant::now();
    let deadline = started + Duration::from_secs(seconds);
    let posts = {
        let (http, url) = (http.clone(), c.line_webhook.clone());
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_micros(1_000_000 / rate));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
            let mut sent = Vec::new();
            let mut i = 0usize;
            while Instant::now() < deadline {
                tick.tick().await;
                let (http, url) = (http.clone(), url.clone());
                let (body, sig) = delivery(run, i, &senders[i % senders.len()]);
                i += 1;
                sent.push(tokio::spawn(async move {
                    let t = Instant::now();
                    let ok = http
                        .post(&url)
                        .header("content-type", "application/json; charset=utf-8")
                        .header("x-line-signature", sig)
                        .body(body)
                        .send()
                        .await
                        .is_ok_and(|r| r.status().is_success());
                    (t.elapsed().as_secs_f64() * 1e3, ok)
                }));
            }
            let mut s = Sample::default();
            for h in sent {
                if let Ok((ms, ok)) = h.await {
                    s.ms.push(ms);
                    if !ok {
                        s.errors += 1;
                    }
                }
            }
            s
        })
    };
    let mut samples = vec![Sample::default(); views.len()];
    let cookie = c.staff[0].1.clone();
    'outer: loop {
        for (v, s) in views.iter().zip(samples.iter_mut()) {
            if Instant::now() >= deadline {
                break 'outer;
            }
            let url = format!("{}/app/inbox?{}", c.base, v.query);
            let one = measure::time(0, 1, || measure::get(http, &url, Some(&cookie), None)).await;
            s.add(&one);
        }
    }
    let webhooks = posts.await?;
    let seconds = started.elapsed().as_secs_f64();
    tokio::time::sleep(Duration::from_millis(500)).await;
    let streams_open = open.load(Ordering::Relaxed);
    stop.notify_waiters();
    for s in streams {
        s.abort();
    }
    let webhooks_stored: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM webhook_events WHERE channel_id = $1 AND provider_event_id LIKE $2",
    )
    .bind(&c.line_channel)
    .bind(format!("01STORM{run:09}%"))
    .fetch_one(c.db.pool())
    .await?;
    Ok(Storm {
        views: samples,
        webhooks,
        webhooks_stored,
        streams_open,
        events: events.load(Ordering::Relaxed),
        seconds,
    })
}

/// LINE doc: Messaging API › Webhook event objects › Message event (text), signed.
fn delivery(run: i64, i: usize, user: &str) -> (String, String) {
    let now = SystemClock.now_ms();
    let event = json!({
        "type": "message", "mode": "active", "timestamp": now,
        "webhookEventId": format!("01STORM{run:09}{i:010}"),
        "deliveryContext": {"isRedelivery": false},
        "source": {"type": "user", "userId": user},
        "replyToken": format!("{:032x}", i as u128 + (1 << 100)),
        "message": {"id": format!("6{run:09}{i:08}"), "type": "text",
                    "quoteToken": format!("s{i}"), "text": "明日の予約を変更したいのですが、午後は空いていますか？"}
    });
    let body =
        json!({"destination": "U0123456789abcdef0123456789abcdef", "events": [event]}).to_string();
    let sig = line::sign(LINE_SECRET, body.as_bytes());
    (body, sig)
}
