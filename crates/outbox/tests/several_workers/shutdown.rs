//! SIGTERM: the worker stops claiming, lets the job in hand finish within the grace, and
//! otherwise gives it back at once (not after the lease) before `run` returns.
use std::time::Duration;

use tokio::sync::watch;
use tsunagu_core::{Clock, FakeClock};
use tsunagu_testkit::test_db;

use crate::courier::*;

/// Only a guard against a hang: `run` must return well before it.
const HANG: Duration = Duration::from_secs(60);

fn clock() -> FakeClock {
    FakeClock::new(tsunagu_core::clock::from_ms(1_700_000_000_000))
}

/// Two patients' lines, both due now.
async fn two_lines(db: &tsunagu_store::Db, now: i64) {
    let c = clinic(db).await;
    for (i, who) in ["a", "b"].into_iter().enumerate() {
        let conv = conversation(db, &c, who).await;
        queue_line(db, &c, &conv, &format!("{who}:0"), now - 10 + i as i64).await;
    }
}

/// Starts `w.run`, waits until its courier holds a job, then signals shutdown (the signal
/// stays readable after its sender is gone).
async fn stop_while_held(
    w: tsunagu_outbox::Worker,
    reached: &mut tokio::sync::mpsc::UnboundedReceiver<()>,
) -> tokio::task::JoinHandle<()> {
    let (stop, stopped) = watch::channel(false);
    let run = tokio::spawn(w.run(stopped));
    reached.recv().await.unwrap();
    stop.send(true).unwrap();
    run
}

#[tokio::test]
async fn a_job_held_before_its_call_is_queued_again_at_once_and_run_returns() {
    let t = test_db().await;
    let clock = clock();
    two_lines(&t.db, clock.now_ms()).await;
    let calls = Calls::default();
    let (held, mut reached, _go) = held(Stage::BeforeCall, &calls);
    let w = worker(t.db.clone(), &clock, held, Duration::from_millis(200));
    let run = stop_while_held(w, &mut reached).await;
    tokio::time::timeout(HANG, run)
        .await
        .expect("run returns within its grace")
        .unwrap();
    // Given back uncounted, lease cleared: due now, at the same (fake) time.
    let states = job_states(&t.db).await;
    assert_eq!(
        states,
        [
            ("a:0".into(), "queued".into(), 0),
            ("b:0".into(), "queued".into(), 0)
        ]
    );
    let leased: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM outbox_jobs WHERE lease_until IS NOT NULL")
            .fetch_one(t.db.pool())
            .await
            .unwrap();
    assert_eq!(leased, 0);
    let other = worker(t.db.clone(), &clock, free(&calls), Duration::from_secs(20));
    assert_eq!(other.run_until_idle().await.unwrap(), 2);
    assert_eq!(received(&calls), ["a:0", "b:0"]);
}

#[tokio::test]
async fn a_job_cut_off_during_its_call_is_in_doubt_at_once() {
    let t = test_db().await;
    let clock = clock();
    two_lines(&t.db, clock.now_ms()).await;
    let calls = Calls::default();
    let (held, mut reached, _go) = held(Stage::DuringCall, &calls);
    let w = worker(t.db.clone(), &clock, held, Duration::from_millis(200));
    let run = stop_while_held(w, &mut reached).await;
    tokio::time::timeout(HANG, run)
        .await
        .expect("run returns within its grace")
        .unwrap();
    let states = job_states(&t.db).await;
    assert_eq!(
        states,
        [
            ("a:0".into(), "in_doubt".into(), 1),
            ("b:0".into(), "queued".into(), 0)
        ]
    );
}

#[tokio::test]
async fn the_job_in_hand_finishes_within_the_grace_and_no_other_is_claimed() {
    let t = test_db().await;
    let clock = clock();
    two_lines(&t.db, clock.now_ms()).await;
    let calls = Calls::default();
    let (held, mut reached, go) = held(Stage::DuringCall, &calls);
    let w = worker(t.db.clone(), &clock, held, Duration::from_secs(600));
    let run = stop_while_held(w, &mut reached).await;
    go.notify_one();
    tokio::time::timeout(HANG, run)
        .await
        .expect("run returns once the job in hand is done")
        .unwrap();
    assert_eq!(received(&calls), ["a:0"]);
    let states = job_states(&t.db).await;
    assert_eq!(
        states,
        [
            ("a:0".into(), "done".into(), 1),
            ("b:0".into(), "queued".into(), 0)
        ]
    );
}
