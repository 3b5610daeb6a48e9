//! The one ingest path on a real database: items from any adapter are stored once, routed by
//! address, and their meaning applied (identities, conversations, jobs, statuses, consent).
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly
use serde_json::json;
use tsunagu_channels::provider::inbound::{
    Address, Consent, Delivered, Follow, Item, Message, Profile, RawEvent, Status, Thread, What,
};
use tsunagu_core::{ChannelId, ClinicId, ConversationId};
use tsunagu_inbox::ingest::inbound::{ingest, Channel};
use tsunagu_store::channels::{Endpoints, NewChannel, PhoneNumberEndpoint};
use tsunagu_store::conversations::{self, NewConversation, NewMessage};
use tsunagu_store::{clinics, jobs, Db};

const T0: i64 = 1_700_000_000_000;

struct World {
    db: Db,
    _t: tsunagu_testkit::TestDb,
    ch: Channel,
}

async fn world() -> World {
    let t = tsunagu_testkit::test_db().await;
    let db = t.db.clone();
    let mut tx = db.begin().await.unwrap();
    let org = clinics::create_organization(tx.conn(), "医療法人つなぐ会", T0)
        .await
        .unwrap();
    let clinic = clinics::NewClinic {
        organization_id: &org,
        slug: "ingest",
        name: "つなぐ歯科",
        timezone: "Asia/Tokyo",
        locale: "ja",
    };
    let clinic_id = clinics::create_clinic(tx.conn(), clinic, T0).await.unwrap();
    let endpoints = Endpoints {
        phone_numbers: vec![PhoneNumberEndpoint {
            phone_number_id: "PN1".into(),
            display_phone_number: None,
        }],
        ..Endpoints::default()
    };
    let settings = serde_json::to_string(&endpoints).unwrap();
    let new = NewChannel {
        clinic_id: &clinic_id,
        kind: "whatsapp",
        name: "WhatsApp",
        credentials_enc: "x",
        api_base_url: "https://graph.example",
        api_data_base_url: None,
        settings: &settings,
    };
    let channel_id = tsunagu_store::channels::create(tx.conn(), new, T0)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    World {
        db,
        _t: t,
        ch: Channel {
            clinic_id,
            channel_id,
            endpoints,
        },
    }
}

impl World {
    async fn ingest(&self, items: Vec<Item>) -> tsunagu_inbox::ingest::IngestReport {
        ingest(&self.db, self.ch.clone(), items, T0 + 1)
            .await
            .unwrap()
    }

    async fn count(&self, sql: &str) -> i64 {
        let mut conn = self.db.pool().acquire().await.unwrap();
        sqlx::query_scalar(sql).fetch_one(&mut *conn).await.unwrap()
    }

    async fn text(&self, sql: &str) -> Option<String> {
        let mut conn = self.db.pool().acquire().await.unwrap();
        sqlx::query_scalar(sql).fetch_one(&mut *conn).await.unwrap()
    }
}

fn event(key: &str, kind: &str, sender: &str) -> RawEvent {
    RawEvent {
        key: key.into(),
        kind: kind.into(),
        body: json!({"id": key}).to_string(),
        sender: Some(sender.into()),
        mode: None,
    }
}

fn message(from: &str, text: &str) -> Message {
    Message {
        thread: Thread::Direct { from: from.into() },
        system: false,
        profile: Profile::Unknown,
        fallback_name: "WhatsApp".into(),
        kind: "text".into(),
        body: Some(text.into()),
        payload: json!({}),
        provider_message_id: Some(format!("wamid.{text}")),
        at_ms: T0,
        media: None,
        dispatch: true,
        reply: None,
        follow: None,
        reachable: true,
        sender_is_phone: false,
        consent: None,
    }
}

fn item(key: &str, to: &str, m: Message) -> Item {
    let sender = m.thread.sender().unwrap_or_default().to_owned();
    Item {
        event: event(key, "message", &sender),
        to: Some(Address::id(to)),
        what: What::Message(Box::new(m)),
    }
}

#[tokio::test]
async fn a_message_is_stored_once_with_its_patient_conversation_and_dispatch_job() {
    let w = world().await;
    let first = w
        .ingest(vec![item("e1", "PN1", message("8190", "予約"))])
        .await;
    assert_eq!((first.new_events, first.duplicate_events), (1, 0));
    assert_eq!(first.touched_conversations.len(), 1);
    let again = w
        .ingest(vec![item("e1", "PN1", message("8190", "予約"))])
        .await;
    assert_eq!((again.new_events, again.duplicate_events), (0, 1));
    assert!(again.touched_conversations.is_empty());
    assert_eq!(w.count("SELECT COUNT(*) FROM messages").await, 1);
    assert_eq!(w.count("SELECT COUNT(*) FROM patients").await, 1);
    assert_eq!(
        w.count("SELECT COUNT(*) FROM outbox_jobs WHERE kind = 'inbound.dispatch'")
            .await,
        1
    );
    assert_eq!(
        w.text("SELECT via FROM conversations").await.as_deref(),
        Some("PN1"),
        "replies leave from the number it came to"
    );
    assert_eq!(
        w.count("SELECT COUNT(*) FROM channel_identities WHERE last_inbound_at = 1700000000000")
            .await,
        1,
        "the service window opened"
    );
    // Nothing to store at all: no transaction either.
    let empty = w.ingest(Vec::new()).await;
    assert_eq!(empty.new_events + empty.duplicate_events, 0);
}

#[tokio::test]
async fn an_item_for_an_address_the_channel_does_not_serve_is_kept_and_flagged_unrouted() {
    let w = world().await;
    let r = w
        .ingest(vec![item("e2", "PN-OTHER", message("8190", "x"))])
        .await;
    assert_eq!(r.new_events, 1);
    assert_eq!(w.count("SELECT COUNT(*) FROM messages").await, 0);
    assert_eq!(
        w.text("SELECT state FROM webhook_events").await.as_deref(),
        Some("unrouted")
    );
}

#[tokio::test]
async fn a_new_person_is_asked_for_once_and_a_given_name_names_the_patient() {
    let w = world().await;
    let fetch = |text: &str| Message {
        profile: Profile::Fetch,
        ..message("PSID1", text)
    };
    w.ingest(vec![
        item("a", "PN1", fetch("1")),
        item("b", "PN1", fetch("2")),
    ])
    .await;
    let profile_jobs = "SELECT COUNT(*) FROM outbox_jobs WHERE kind = 'channel.fetch_profile'";
    assert_eq!(w.count(profile_jobs).await, 1);
    let payload = w
        .text("SELECT payload FROM outbox_jobs WHERE kind = 'channel.fetch_profile'")
        .await
        .unwrap();
    let payload: serde_json::Value = serde_json::from_str(&payload).unwrap();
    assert_eq!(
        (payload["user_id"].as_str(), payload["via"].as_str()),
        (Some("PSID1"), Some("PN1"))
    );

    let named = Message {
        profile: Profile::Given("山田 花子".into()),
        ..message("8191", "3")
    };
    w.ingest(vec![item("c", "PN1", named)]).await;
    assert_eq!(
        w.count("SELECT COUNT(*) FROM patients WHERE display_name = '山田 花子'")
            .await,
        1
    );
    assert_eq!(
        w.count(profile_jobs).await,
        1,
        "a given name needs no fetch"
    );
}

#[tokio::test]
async fn an_unfollow_from_someone_never_seen_stores_only_its_event() {
    let w = world().await;
    let unfollow = Message {
        system: true,
        kind: "event".into(),
        body: Some("blocked".into()),
        follow: Some(Follow::Blocked),
        dispatch: false,
        ..message("U-unknown", "blocked")
    };
    let r = w.ingest(vec![item("u1", "PN1", unfollow)]).await;
    assert_eq!(r.new_events, 1);
    assert_eq!(w.count("SELECT COUNT(*) FROM messages").await, 0);
    assert_eq!(w.count("SELECT COUNT(*) FROM channel_identities").await, 0);
}

#[tokio::test]
async fn a_stop_keyword_opts_the_sender_out_with_a_system_line() {
    let w = world().await;
    let stop = Message {
        dispatch: false,
        sender_is_phone: true,
        consent: Some(Consent::OptedOut {
            source: "sms:STOP".into(),
        }),
        ..message("+819012345678", "STOP")
    };
    w.ingest(vec![item("s1", "PN1", stop)]).await;
    assert_eq!(
        w.text("SELECT opt_out_source FROM channel_identities")
            .await
            .as_deref(),
        Some("sms:STOP")
    );
    assert_eq!(
        w.text("SELECT body FROM messages WHERE direction = 'system'")
            .await
            .as_deref(),
        Some("opted_out")
    );
    assert_eq!(
        w.text("SELECT phone FROM patients").await.as_deref(),
        Some("+819012345678")
    );
    assert_eq!(
        w.count("SELECT COUNT(*) FROM outbox_jobs WHERE kind = 'inbound.dispatch'")
            .await,
        0
    );
}

#[tokio::test]
async fn a_status_naming_our_message_in_doubt_takes_its_id_and_settles_its_send() {
    let w = world().await;
    let mut tx = w.db.begin().await.unwrap();
    let conv = conversations::find_or_create(
        tx.conn(),
        NewConversation {
            clinic_id: &w.ch.clinic_id,
            channel_id: &w.ch.channel_id,
            kind: "direct",
            thread_key: "8190",
            patient_id: None,
            channel_identity_id: None,
            title: None,
        },
        T0,
    )
    .await
    .unwrap();
    let ours = outbound(tx.conn(), &w.ch.clinic_id, &w.ch.channel_id, &conv.id).await;
    tx.commit().await.unwrap();

    let status = Status {
        provider_message_id: "wamid.sent".into(),
        state: Delivered::Delivered,
        failure_code: None,
        failure_reason: None,
        at_ms: T0 + 5,
        ours: Some(ours.clone()),
        recipient: Some("8190".into()),
        unreachable: None,
    };
    let r = w
        .ingest(vec![Item {
            event: event("wamid.sent:delivered", "status", "8190"),
            to: Some(Address::id("PN1")),
            what: What::Status(status),
        }])
        .await;
    assert_eq!(r.touched_conversations, vec![conv.id.clone()]);
    let row = w
        .text(&format!(
            "SELECT status || ':' || provider_message_id || ':' || COALESCE(failure_code, '-') FROM messages WHERE id = '{ours}'"
        ))
        .await;
    assert_eq!(row.as_deref(), Some("delivered:wamid.sent:-"));
    assert_eq!(
        w.text(&format!(
            "SELECT state FROM outbox_jobs WHERE idempotency_key = 'send:{ours}'"
        ))
        .await
        .as_deref(),
        Some("done"),
        "no longer in doubt: staff cannot send it twice"
    );
}

/// An outbound message whose send is in doubt (the provider's answer was lost).
async fn outbound(
    conn: &mut sqlx::AnyConnection,
    clinic: &ClinicId,
    channel: &ChannelId,
    conv: &str,
) -> String {
    let id = conversations::insert_message(
        &mut *conn,
        NewMessage {
            clinic_id: clinic,
            conversation_id: &ConversationId::from_db(conv.to_string()),
            channel_id: channel,
            direction: "out",
            kind: "text",
            body: Some("10時でお取りしました"),
            payload: "{}",
            sender_identity_id: None,
            author_kind: "staff",
            author_staff_id: None,
            provider_message_id: None,
            status: "in_doubt",
            at_ms: T0,
        },
    )
    .await
    .unwrap();
    sqlx::query("UPDATE messages SET failure_code = 'in_doubt' WHERE id = $1")
        .bind(id.as_str())
        .execute(&mut *conn)
        .await
        .unwrap();
    let job = tsunagu_core::jobs::SendMessage {
        message_id: id.clone(),
        channel_id: channel.clone(),
        to: "8190".into(),
        messages: vec![json!({"type": "text", "text": "x"})],
        retry_key: "k".into(),
        channel_kind: Some("whatsapp".into()),
        via: None,
        tag: None,
        reply: None,
    };
    let at = jobs::Enqueue {
        clinic_id: Some(clinic),
        idempotency_key: &format!("send:{id}"),
        run_at: T0,
    };
    let job_id = jobs::enqueue(&mut *conn, &job, at, T0)
        .await
        .unwrap()
        .unwrap();
    jobs::in_doubt(conn, &job_id, "answer lost", T0)
        .await
        .unwrap();
    id.into_string()
}

#[tokio::test]
async fn a_patients_message_through_ingest_reopens_a_pending_snoozed_or_resolved_conversation() {
    let w = world().await;
    w.ingest(vec![item("s0", "PN1", message("8190", "はじめまして"))])
        .await;
    for (i, (status, until)) in [
        ("pending", "NULL"),
        ("snoozed", "9999999999999"),
        ("resolved", "NULL"),
    ]
    .into_iter()
    .enumerate()
    {
        let mut conn = w.db.pool().acquire().await.unwrap();
        sqlx::query(&format!(
            "UPDATE conversations SET status = '{status}', snoozed_until = {until}"
        ))
        .execute(&mut *conn)
        .await
        .unwrap();
        drop(conn);
        let key = format!("s{}", i + 1);
        w.ingest(vec![item(&key, "PN1", message("8190", &key))])
            .await;
        assert_eq!(
            w.text("SELECT status || ':' || COALESCE(CAST(snoozed_until AS TEXT), '-') FROM conversations")
                .await
                .as_deref(),
            Some("open:-"),
            "reopened from {status}"
        );
    }
}

/// A patient's message at `at_ms`.
fn message_at(from: &str, text: &str, at_ms: i64) -> Message {
    Message {
        at_ms,
        ..message(from, text)
    }
}

#[tokio::test]
async fn ingest_keeps_the_sla_clock_starts_in_the_conversation_update() {
    let w = world().await;
    let clocks = "SELECT COALESCE(CAST(waiting_since AS TEXT), '-') || ':' || COALESCE(CAST(opened_at AS TEXT), '-') FROM conversations";
    // First contact and a second message in the same delivery: the wait starts at the first.
    w.ingest(vec![
        item("c1", "PN1", message_at("8190", "はじめまして", T0)),
        item(
            "c2",
            "PN1",
            message_at("8190", "予約できますか", T0 + 60_000),
        ),
    ])
    .await;
    let first = format!("{T0}:{T0}");
    assert_eq!(w.text(clocks).await.as_deref(), Some(first.as_str()));
    // Writing again while waiting does not restart it.
    w.ingest(vec![item(
        "c3",
        "PN1",
        message_at("8190", "まだですか", T0 + 120_000),
    )])
    .await;
    assert_eq!(w.text(clocks).await.as_deref(), Some(first.as_str()));
    // A staff reply ends the wait; the resolution clock runs on.
    let mut conn = w.db.pool().acquire().await.unwrap();
    let conv: String = sqlx::query_scalar("SELECT id FROM conversations")
        .fetch_one(&mut *conn)
        .await
        .unwrap();
    let conv = ConversationId::from_db(conv);
    conversations::insert_message(
        &mut conn,
        NewMessage {
            clinic_id: &w.ch.clinic_id,
            conversation_id: &conv,
            channel_id: &w.ch.channel_id,
            direction: "out",
            kind: "text",
            body: Some("お待たせしました"),
            payload: "{}",
            sender_identity_id: None,
            author_kind: "staff",
            author_staff_id: None,
            provider_message_id: None,
            status: "queued",
            at_ms: T0 + 180_000,
        },
    )
    .await
    .unwrap();
    drop(conn);
    assert_eq!(w.text(clocks).await.unwrap(), format!("-:{T0}"));
    // The patient's next message starts a new wait (pending → open is the same matter).
    w.ingest(vec![item(
        "c4",
        "PN1",
        message_at("8190", "ありがとう", T0 + 240_000),
    )])
    .await;
    assert_eq!(
        w.text(clocks).await.unwrap(),
        format!("{}:{T0}", T0 + 240_000)
    );
    // Once resolved, the patient's message opens a new matter: both clocks start again.
    let mut conn = w.db.pool().acquire().await.unwrap();
    tsunagu_store::conversations::state::set_status(
        &mut conn,
        &w.ch.clinic_id,
        &conv,
        tsunagu_core::ConversationStatus::Resolved,
        None,
        T0 + 300_000,
    )
    .await
    .unwrap();
    drop(conn);
    assert_eq!(w.text(clocks).await.unwrap(), format!("-:{T0}"));
    w.ingest(vec![item(
        "c5",
        "PN1",
        message_at("8190", "また質問です", T0 + 360_000),
    )])
    .await;
    let again = T0 + 360_000;
    assert_eq!(w.text(clocks).await.unwrap(), format!("{again}:{again}"));
}
