//! A worker that vanishes (kill -9: its run dropped mid-job) leaves a job that never reached
//! the provider to the other workers, which send it; only a job whose attempt had started is
//! held in doubt.
use std::time::Duration;

use tsunagu_core::{Clock, FakeClock};
use tsunagu_testkit::test_db;

use crate::courier::*;

const GRACE: Duration = Duration::from_secs(20);

fn clock() -> FakeClock {
    FakeClock::new(tsunagu_core::clock::from_ms(1_700_000_000_000))
}

/// Three patients, one line each, all due now (a worker claiming a batch takes them all).
async fn three_lines(db: &tsunagu_store::Db, now: i64) {
    let c = clinic(db).await;
    for (i, who) in ["a", "b", "c"].into_iter().enumerate() {
        let conv = conversation(db, &c, who).await;
        queue_line(db, &c, &conv, &format!("{who}:0"), now - 10 + i as i64).await;
    }
}

#[tokio::test]
async fn a_send_whose_worker_vanished_before_the_call_is_sent_by_another_never_in_doubt() {
    let t = test_db().await;
    let clock = clock();
    three_lines(&t.db, clock.now_ms()).await;
    let calls = Calls::default();
    // Worker A claims and dies on its way to the provider.
    let (held, mut reached, _go) = held(Stage::BeforeCall, &calls);
    let a = worker(t.db.clone(), &clock, held, GRACE);
    tokio::select! {
        ran = a.run_once() => panic!("the held worker finished: {ran:?}"),
        _ = reached.recv() => {}
    }
    drop(a);
    // Its lease runs out; two other workers share the queue.
    clock.advance(chrono::Duration::milliseconds(LEASE_MS + 1));
    let b = worker(t.db.clone(), &clock, free(&calls), GRACE);
    let c = worker(t.db.clone(), &clock, free(&calls), GRACE);
    let (rb, rc) = tokio::join!(b.run_until_idle(), c.run_until_idle());
    rb.unwrap();
    rc.unwrap();
    let mut sent = received(&calls);
    sent.sort();
    assert_eq!(sent, ["a:0", "b:0", "c:0"], "each line sent once");
    let states = job_states(&t.db).await;
    assert!(
        states.iter().all(|(_, state, _)| state == "done"),
        "none in doubt: {states:?}"
    );
}

#[tokio::test]
async fn a_send_whose_worker_vanished_during_the_call_is_in_doubt_and_not_repeated() {
    let t = test_db().await;
    let clock = clock();
    three_lines(&t.db, clock.now_ms()).await;
    let calls = Calls::default();
    let (held, mut reached, _go) = held(Stage::DuringCall, &calls);
    let a = worker(t.db.clone(), &clock, held, GRACE);
    tokio::select! {
        ran = a.run_once() => panic!("the held worker finished: {ran:?}"),
        _ = reached.recv() => {}
    }
    drop(a);
    clock.advance(chrono::Duration::milliseconds(LEASE_MS + 1));
    let b = worker(t.db.clone(), &clock, free(&calls), GRACE);
    let c = worker(t.db.clone(), &clock, free(&calls), GRACE);
    let (rb, rc) = tokio::join!(b.run_until_idle(), c.run_until_idle());
    rb.unwrap();
    rc.unwrap();
    let mut sent = received(&calls);
    sent.sort();
    assert_eq!(sent, ["b:0", "c:0"], "the line in flight is not sent again");
    let states = job_states(&t.db).await;
    assert_eq!(
        states,
        [
            ("a:0".into(), "in_doubt".into(), 1),
            ("b:0".into(), "done".into(), 1),
            ("c:0".into(), "done".into(), 1),
        ]
    );
}
