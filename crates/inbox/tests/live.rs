//! Live events reach subscribers: in-process on SQLite, across processes (two hubs) on PostgreSQL;
//! open pages are told to resync after a gap and their feeds end when the server stops.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly
use std::time::Duration;
use tsunagu_inbox::live::{Feed, Update};
use tsunagu_inbox::{LiveEvent, LiveHub};
use tsunagu_store::Backend;

#[tokio::test]
async fn a_published_event_reaches_every_hub_of_the_database() {
    let t = tsunagu_testkit::test_db().await;
    let publisher = LiveHub::for_db(&t.db);
    // On PostgreSQL a second hub stands for another tsunagu process; on SQLite there is one.
    let receiver = if t.db.backend() == Backend::Postgres {
        LiveHub::for_db(&t.db)
    } else {
        publisher.clone()
    };
    let mut rx = receiver.subscribe();
    // LISTEN is set up in the background: publish until the first event arrives.
    let got = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            publisher.publish(LiveEvent {
                clinic_id: "c1".into(),
                conversation_id: "v1".into(),
                kind: "message.created",
            });
            match tokio::time::timeout(Duration::from_millis(200), rx.recv()).await {
                Ok(Ok(e)) => return e,
                _ => continue,
            }
        }
    })
    .await
    .expect("no live event arrived");
    assert_eq!(
        (
            got.clinic_id.as_str(),
            got.conversation_id.as_str(),
            got.kind
        ),
        ("c1", "v1", "message.created")
    );
}

/// The first event a feed passes on (resyncs before it are skipped), publishing until it comes:
/// on PostgreSQL LISTEN is set up in the background.
async fn first_event(publisher: &LiveHub, feed: &mut Feed) -> LiveEvent {
    tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            publisher.publish(event("v1"));
            while let Ok(u) = tokio::time::timeout(Duration::from_millis(200), feed.next()).await {
                match u.expect("the feed is open") {
                    Update::Event(e) => return e,
                    Update::Resync => continue,
                }
            }
        }
    })
    .await
    .expect("no live event arrived")
}

fn event(conversation: &str) -> LiveEvent {
    LiveEvent {
        clinic_id: "c1".into(),
        conversation_id: conversation.into(),
        kind: "message.created",
    }
}

#[tokio::test]
async fn a_page_that_falls_behind_is_told_to_resync() {
    let hub = LiveHub::new();
    let mut feed = hub.feed();
    for i in 0..1100 {
        hub.publish(event(&format!("v{i}")));
    }
    assert!(matches!(feed.next().await, Some(Update::Resync)));
    // Then it goes on with what is still there.
    assert!(matches!(feed.next().await, Some(Update::Event(_))));
}

#[tokio::test]
async fn closing_the_hub_ends_every_feed_at_once() {
    let hub = LiveHub::new();
    let mut open = hub.feed();
    let waiting = tokio::spawn(async move { open.next().await.is_none() });
    hub.close();
    let ended = tokio::time::timeout(Duration::from_secs(10), waiting)
        .await
        .expect("an open feed still waits after close")
        .unwrap();
    assert!(ended);
    assert!(
        hub.feed().next().await.is_none(),
        "a feed opened while stopping ends too"
    );
}

/// The database drops the listener's connection (a blip, a failover): NOTIFYs sent meanwhile
/// are gone, so once listening again the hub tells every open page to resync.
#[tokio::test]
async fn pages_resync_after_the_database_listener_reconnects() {
    let t = tsunagu_testkit::test_db().await;
    if t.db.backend() != Backend::Postgres {
        eprintln!("PostgreSQL only (LISTEN/NOTIFY): set TEST_DATABASE_URL");
        return;
    }
    let publisher = LiveHub::for_db(&t.db);
    let receiver = LiveHub::for_db(&t.db);
    let mut feed = receiver.feed();
    first_event(&publisher, &mut feed).await;

    let killed: Vec<bool> = sqlx::query_scalar(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = current_database() AND query LIKE 'LISTEN%' AND pid <> pg_backend_pid()",
    )
    .fetch_all(t.db.pool())
    .await
    .unwrap();
    assert_eq!(killed, [true, true], "both hubs' listeners are cut");

    let resynced = tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            match feed.next().await.expect("the feed is open") {
                Update::Resync => return,
                Update::Event(_) => continue,
            }
        }
    })
    .await;
    assert!(resynced.is_ok(), "no resync after the listener reconnected");
    // And events flow again.
    first_event(&publisher, &mut feed).await;
}

/// Presence heard across instances: a beat on one hub shows on another hub of the same
/// PostgreSQL database (another tsunagu process), and that hub's pages are told.
#[tokio::test]
async fn a_presence_beat_reaches_every_hub_of_the_database() {
    use tsunagu_inbox::live::presence::{Activity, Beat};
    let t = tsunagu_testkit::test_db().await;
    if t.db.backend() != Backend::Postgres {
        eprintln!("PostgreSQL only (LISTEN/NOTIFY): set TEST_DATABASE_URL");
        return;
    }
    let here = LiveHub::for_db(&t.db);
    let there = LiveHub::for_db(&t.db);
    let mut rx = there.subscribe();
    let now = 1_000_000;
    // LISTEN is set up in the background: beat until the other hub hears it.
    tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            here.beat(Beat {
                clinic_id: "c1".into(),
                conversation_id: "v1".into(),
                staff_id: "s1".into(),
                activity: Activity::Typing,
                at_ms: now,
            });
            if let Ok(Ok(e)) = tokio::time::timeout(Duration::from_millis(200), rx.recv()).await {
                assert_eq!(e.kind, "presence.changed");
                return;
            }
        }
    })
    .await
    .expect("the other hub never heard the beat");
    assert_eq!(
        there.present("c1", "v1", now + 1),
        vec![("s1".to_string(), Activity::Typing)]
    );
    assert!(there.present("c2", "v1", now + 1).is_empty());
}
