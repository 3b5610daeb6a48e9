//! Live events reach subscribers: in-process on SQLite, across processes (two hubs) on PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly
use std::time::Duration;
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
