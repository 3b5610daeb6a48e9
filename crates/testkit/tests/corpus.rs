//! The corpus generator writes what the inbox itself would have left: every message indexed
//! and found by search exactly as a substring scan finds it, each conversation's summary
//! (last message, unread count, state) true to its messages, and the app's own views read it.
//! SQLite by default, PostgreSQL when `TEST_DATABASE_URL` is set.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use tsunagu_channels::ChannelKind;
use tsunagu_core::text::search_form;
use tsunagu_core::Role;
use tsunagu_store::search::find::{self, Facets};
use tsunagu_store::search::grams::Needle;
use tsunagu_testkit::corpus::{self, Spec};
use tsunagu_testkit::TestApp;

#[tokio::test]
async fn a_small_corpus_is_consistent_indexed_and_served() {
    let app = TestApp::builder()
        .with_channels(ChannelKind::ALL)
        .start()
        .await;
    for name in ["受付 小林", "看護師 高橋", "院長 森"] {
        app.staff_session(app.clinic(), Role::Receptionist, name)
            .await;
    }
    let spec = Spec {
        conversations: 300,
        messages: 3_000,
        notes: 100,
        days: 60,
        now_ms: app.now_ms(),
        seed: 11,
    };
    let s = corpus::generate(&app.db, app.clinic(), &spec)
        .await
        .unwrap();
    assert_eq!((s.conversations, s.messages, s.notes), (300, 3_000, 100));

    let pool = app.db.pool().clone();
    let count = |sql: &'static str| {
        let pool = pool.clone();
        async move {
            sqlx::query_scalar::<_, i64>(sql)
                .fetch_one(&pool)
                .await
                .unwrap()
        }
    };
    assert_eq!(count("SELECT COUNT(*) FROM messages").await, 3_000);
    assert_eq!(
        count("SELECT COUNT(*) FROM search_docs WHERE kind = 'message'").await,
        3_000,
        "every text message is indexed"
    );
    assert_eq!(
        count(
            "SELECT COUNT(*) FROM conversations c WHERE last_message_at <>
             (SELECT MAX(created_at) FROM messages m WHERE m.conversation_id = c.id)"
        )
        .await,
        0,
        "each conversation's last message time is its newest message's"
    );
    assert_eq!(
        count(
            "SELECT COUNT(*) FROM conversations WHERE status = 'open' AND unread_count > 0
             AND waiting_since IS NULL"
        )
        .await,
        0,
        "a conversation with unread messages is waiting"
    );

    // Search finds, newest first, exactly what a substring scan of the search forms finds.
    let mut conn = app.db.pool().acquire().await.unwrap();
    let bodies: Vec<(String, String)> =
        sqlx::query_as("SELECT id, body FROM messages ORDER BY created_at DESC, id DESC")
            .fetch_all(&mut *conn)
            .await
            .unwrap();
    for term in ["熱", "予約", "駐車場", "健康診断書", "fever"] {
        let form = search_form(term);
        let scanned: Vec<&str> = bodies
            .iter()
            .filter(|(_, b)| search_form(b).contains(&form))
            .map(|(id, _)| id.as_str())
            .collect();
        let needle = Needle::of(&form).unwrap();
        let (mut hits, mut before) = (Vec::new(), None);
        loop {
            let page = find::messages(
                &mut conn,
                app.clinic(),
                &needle,
                &Facets::default(),
                before,
                200,
            )
            .await
            .unwrap();
            let Some(last) = page.last() else { break };
            before = Some(last.seq);
            hits.extend(page.into_iter().map(|h| h.message_id));
        }
        let mut found: Vec<&str> = hits.iter().map(String::as_str).collect();
        let mut expected = scanned.clone();
        found.sort_unstable();
        expected.sort_unstable();
        assert!(!expected.is_empty(), "the corpus has {term}");
        assert_eq!(found, expected, "search for {term}");
    }
    drop(conn);

    // The inbox reads it: the open tab lists the corpus's open conversations.
    let staff = app
        .staff_session(app.clinic(), Role::Receptionist, "受付 新人")
        .await;
    let res = app
        .request(axum::http::Method::GET, "/app/inbox?view=open")
        .session(&staff)
        .send()
        .await;
    assert!(res.status.is_success());
    assert!(
        res.text().contains("data-testid=\"inbox-item\""),
        "the open tab lists conversations"
    );
}
