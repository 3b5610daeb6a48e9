//! A person's lines in order: three lines for each of 30 patients, three workers on their own
//! connections claiming at once; the "provider" must see each conversation's lines in the
//! order they were queued.
use std::collections::HashMap;
use std::time::Duration;

use tsunagu_core::{Clock, FakeClock};
use tsunagu_store::Db;
use tsunagu_testkit::test_db;

use crate::courier::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn each_conversations_lines_leave_in_order_across_three_workers() {
    let t = test_db().await;
    let clock = FakeClock::new(tsunagu_core::clock::from_ms(1_700_000_000_000));
    let start = clock.now_ms();
    let c = clinic(&t.db).await;
    let mut convs = Vec::new();
    for p in 0..30 {
        convs.push(conversation(&t.db, &c, &format!("p{p:02}")).await);
    }
    // One line per patient at a time, as three instances taking turns would queue them.
    let mut at = start;
    for line in 0..3 {
        for (p, conv) in convs.iter().enumerate() {
            at += 1;
            queue_line(&t.db, &c, conv, &format!("p{p:02}:{line}"), at).await;
        }
    }
    clock.advance(chrono::Duration::milliseconds(at - start + 1));
    let calls = Calls::default();
    let mut tasks = Vec::new();
    for _ in 0..3 {
        let db = Db::connect(&t.url).await.unwrap();
        let w = worker(db, &clock, free(&calls), Duration::from_secs(20));
        tasks.push(tokio::spawn(async move { w.run_until_idle().await }));
    }
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    // A worker may have found only blocked lines and stopped early; the last one drains.
    let last = worker(t.db.clone(), &clock, free(&calls), Duration::from_secs(20));
    last.run_until_idle().await.unwrap();
    let sent = received(&calls);
    assert_eq!(sent.len(), 90, "every line sent once: {sent:?}");
    let mut seen: HashMap<&str, Vec<&str>> = HashMap::new();
    for call in &sent {
        let (who, line) = call.split_once(':').unwrap();
        seen.entry(who).or_default().push(line);
    }
    let out_of_order: Vec<_> = seen
        .iter()
        .filter(|(_, lines)| **lines != ["0", "1", "2"])
        .collect();
    assert!(out_of_order.is_empty(), "out of order: {out_of_order:?}");
}
