//! The store's contract, run on SQLite and (with TEST_DATABASE_URL) on PostgreSQL.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly
use tsunagu_store::conversations::filter::{Assignee, ConversationFilter};
use tsunagu_store::{channels, clinics, conversations, jobs, patients, webhooks};
use tsunagu_testkit::test_db;

async fn clinic_with_channel(
    db: &tsunagu_store::Db,
) -> (tsunagu_core::ClinicId, tsunagu_core::ChannelId) {
    let mut tx = db.begin().await.unwrap();
    let org = clinics::create_organization(tx.conn(), "医療法人テスト会", 1)
        .await
        .unwrap();
    let clinic = clinics::create_clinic(
        tx.conn(),
        clinics::NewClinic {
            organization_id: &org,
            slug: "sakura",
            name: "さくら内科",
            timezone: "Asia/Tokyo",
            locale: "ja",
        },
        1,
    )
    .await
    .unwrap();
    let ch = channels::create(
        tx.conn(),
        channels::NewChannel {
            clinic_id: &clinic,
            kind: "line",
            name: "LINE",
            credentials_enc: "x",
            api_base_url: "http://127.0.0.1:1",
            api_data_base_url: None,
            settings: "{}",
        },
        1,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    (clinic, ch)
}

#[tokio::test]
async fn a_redelivered_webhook_event_is_stored_once() {
    let t = test_db().await;
    let (clinic, ch) = clinic_with_channel(&t.db).await;
    let mut c = t.db.pool().acquire().await.unwrap();
    let e = || webhooks::NewEvent {
        clinic_id: &clinic,
        channel_id: &ch,
        provider_event_id: "01FZ74A0TDDPYRVKNK77XKC3ZR",
        event_type: "message",
        mode: Some("active"),
        body: "{}",
    };
    assert!(webhooks::insert_once(&mut c, e(), 5).await.unwrap());
    assert!(!webhooks::insert_once(&mut c, e(), 6).await.unwrap());
    assert_eq!(webhooks::count_for_channel(&mut c, &ch).await.unwrap(), 1);
}

#[tokio::test]
async fn a_message_moves_its_conversation_to_the_top_with_an_unread_count() {
    let t = test_db().await;
    let (clinic, ch) = clinic_with_channel(&t.db).await;
    let mut tx = t.db.begin().await.unwrap();
    let ident = patients::create_provisional(tx.conn(), &clinic, &ch, "U1", "山田 太郎", 10)
        .await
        .unwrap();
    let conv = conversations::find_or_create(
        tx.conn(),
        conversations::NewConversation {
            clinic_id: &clinic,
            channel_id: &ch,
            kind: "direct",
            thread_key: "U1",
            patient_id: Some(&ident.patient_id),
            channel_identity_id: Some(&ident.id),
            title: None,
        },
        10,
    )
    .await
    .unwrap();
    let conv_id = tsunagu_core::ConversationId::from_db(conv.id.clone());
    conversations::insert_message(
        tx.conn(),
        conversations::NewMessage {
            clinic_id: &clinic,
            conversation_id: &conv_id,
            channel_id: &ch,
            direction: "in",
            kind: "text",
            body: Some("駐車場はありますか"),
            payload: "{}",
            sender_identity_id: Some(&ident.id),
            author_kind: "patient",
            author_staff_id: None,
            provider_message_id: Some("m1"),
            status: "received",
            at_ms: 20,
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let mut c = t.db.pool().acquire().await.unwrap();
    let unassigned = ConversationFilter {
        assignee: Assignee::Unassigned,
        ..ConversationFilter::default()
    };
    let list = unassigned
        .list(&mut c, &clinic, 30, None, 10)
        .await
        .unwrap();
    assert_eq!(list.len(), 1);
    assert_eq!(list[0].unread_count, 1);
    assert_eq!(
        list[0].last_message_preview.as_deref(),
        Some("駐車場はありますか")
    );
    let other = tsunagu_core::ClinicId::new();
    assert!(ConversationFilter::default()
        .list(&mut c, &other, 30, None, 10)
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn a_job_is_claimed_by_one_worker_and_enqueued_once_per_key() {
    let t = test_db().await;
    let mut c = t.db.pool().acquire().await.unwrap();
    #[derive(serde::Serialize, serde::Deserialize)]
    struct TestJob {}
    impl tsunagu_core::jobs::JobPayload for TestJob {
        const KIND: &'static str = "test";
    }
    let at = || jobs::Enqueue {
        clinic_id: None,
        idempotency_key: "k1",
        run_at: 100,
    };
    let j = TestJob {};
    assert!(jobs::enqueue(&mut c, &j, at(), 1).await.unwrap().is_some());
    assert!(jobs::enqueue(&mut c, &j, at(), 1).await.unwrap().is_none());
    drop(c);
    assert!(
        jobs::claim_due(&t.db, 99, 1000, 10)
            .await
            .unwrap()
            .is_empty(),
        "not due yet"
    );
    let claimed = jobs::claim_due(&t.db, 100, 1000, 10).await.unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!(claimed[0].attempts, 1);
    assert!(
        jobs::claim_due(&t.db, 100, 1000, 10)
            .await
            .unwrap()
            .is_empty(),
        "already running"
    );
}

#[tokio::test]
async fn the_all_tab_holds_every_state_and_the_team_tabs_count_by_assignee() {
    let t = test_db().await;
    let (clinic, ch) = clinic_with_channel(&t.db).await;
    let mut tx = t.db.begin().await.unwrap();
    let mut ids = Vec::new();
    for (i, key) in ["U1", "U2", "U3", "U4", "U5", "U6"].iter().enumerate() {
        let conv = conversations::find_or_create(
            tx.conn(),
            conversations::NewConversation {
                clinic_id: &clinic,
                channel_id: &ch,
                kind: "direct",
                thread_key: key,
                patient_id: None,
                channel_identity_id: None,
                title: None,
            },
            10 + i as i64,
        )
        .await
        .unwrap();
        ids.push(conv.id);
    }
    tx.commit().await.unwrap();
    // open, open (team, mine), pending, snoozed (due at 100), snoozed (not due), resolved.
    let states = [
        ("open", None, None, None),
        ("open", Some("t1"), Some("me"), None),
        ("pending", Some("t1"), None, None),
        ("snoozed", Some("t1"), None, Some(100)),
        ("snoozed", None, None, Some(10_000)),
        ("resolved", Some("t1"), None, None),
    ];
    for (id, (status, team, assignee, until)) in ids.iter().zip(states) {
        sqlx::query(
            "UPDATE conversations SET status = $1, team_id = $2, assignee_id = $3, snoozed_until = $4 WHERE id = $5",
        )
        .bind(status)
        .bind(team)
        .bind(assignee)
        .bind(until)
        .bind(id)
        .execute(t.db.pool())
        .await
        .unwrap();
    }
    let mut c = t.db.pool().acquire().await.unwrap();
    let all = ConversationFilter::default()
        .counts(&mut c, &clinic, "me", 1_000)
        .await
        .unwrap();
    let totals = |n: &tsunagu_store::conversations::filter::TabCounts| {
        [
            n.open.total,
            n.unassigned.total,
            n.mine.total,
            n.pending.total,
            n.snoozed.total,
            n.resolved.total,
            n.all.total,
        ]
    };
    assert_eq!(totals(&all), [3, 2, 1, 1, 1, 1, 6]);
    let team = ConversationFilter {
        team_id: Some("t1".into()),
        ..ConversationFilter::default()
    };
    let n = team.counts(&mut c, &clinic, "me", 1_000).await.unwrap();
    assert_eq!(totals(&n), [2, 1, 1, 1, 0, 1, 4]);
}
