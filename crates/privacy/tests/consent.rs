//! The consent ledger against a real database (SQLite, or PostgreSQL with TEST_DATABASE_URL):
//! what `may_send` allows, what the current state is, and that history is kept in order.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly

use tsunagu_core::{Arg, ChannelId, ClinicId, Code, ConversationId, PatientId};
use tsunagu_privacy::consent::{
    self, ConsentActor, NewConsent, Purpose, SendBasis, Source, Status,
};
use tsunagu_store::conversations::{self, NewConversation, NewMessage};
use tsunagu_store::{channels, clinics, patients, Db};
use tsunagu_testkit::test_db;

const T0: i64 = 1_767_600_000_000;
const DAY: i64 = 86_400_000;

struct World {
    clinic: ClinicId,
    line: ChannelId,
    sms: ChannelId,
    patient: PatientId,
    conversation: ConversationId,
}

async fn world(db: &Db) -> World {
    let mut tx = db.begin().await.unwrap();
    let org = clinics::create_organization(tx.conn(), "医療法人テスト会", T0)
        .await
        .unwrap();
    let c = clinics::NewClinic {
        organization_id: &org,
        slug: "sakura",
        name: "さくら内科",
        timezone: "Asia/Tokyo",
        locale: "ja",
    };
    let clinic = clinics::create_clinic(tx.conn(), c, T0).await.unwrap();
    let chan = |name: &'static str| channels::NewChannel {
        clinic_id: &clinic,
        kind: "line",
        name,
        credentials_enc: "x",
        api_base_url: "http://127.0.0.1:9",
        api_data_base_url: None,
        settings: "{}",
    };
    let line = channels::create(tx.conn(), chan("LINE"), T0).await.unwrap();
    let sms = channels::create(tx.conn(), chan("LINE 2"), T0)
        .await
        .unwrap();
    let ident = patients::create_provisional(tx.conn(), &clinic, &line, "U1", "山田 花子", T0)
        .await
        .unwrap();
    let new = NewConversation {
        clinic_id: &clinic,
        channel_id: &line,
        kind: "direct",
        thread_key: "U1",
        patient_id: Some(&ident.patient_id),
        channel_identity_id: Some(&ident.id),
        title: None,
    };
    let conv = conversations::find_or_create(tx.conn(), new, T0)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    World {
        clinic,
        line,
        sms,
        patient: PatientId::from_db(ident.patient_id),
        conversation: ConversationId::from_db(conv.id),
    }
}

async fn patient_writes(db: &Db, w: &World, at: i64) {
    let mut tx = db.begin().await.unwrap();
    let m = NewMessage {
        clinic_id: &w.clinic,
        conversation_id: &w.conversation,
        channel_id: &w.line,
        direction: "in",
        kind: "text",
        body: Some("こんにちは"),
        payload: "{}",
        sender_identity_id: None,
        author_kind: "patient",
        author_staff_id: None,
        provider_message_id: None,
        status: "received",
        at_ms: at,
    };
    conversations::insert_message(tx.conn(), m).await.unwrap();
    tx.commit().await.unwrap();
}

async fn record(
    db: &Db,
    w: &World,
    purpose: Purpose,
    channel: Option<&ChannelId>,
    granted: bool,
    at: i64,
) {
    let mut tx = db.begin().await.unwrap();
    let e = NewConsent {
        clinic: &w.clinic,
        patient: &w.patient,
        purpose,
        channel,
        granted,
        source: Source::WebForm,
        wording: "お知らせをLINEで受け取ります",
        reason: None,
        actor: ConsentActor::Staff("s1".into()),
        source_ip: None,
    };
    consent::record(tx.conn(), db.backend(), e, at)
        .await
        .unwrap()
        .unwrap();
    tx.commit().await.unwrap();
}

async fn may(
    db: &Db,
    w: &World,
    channel: &ChannelId,
    basis: SendBasis,
    at: i64,
) -> Result<(), &'static str> {
    let mut conn = db.pool().acquire().await.unwrap();
    consent::may_send(&mut conn, &w.clinic, &w.patient, channel, basis, at)
        .await
        .unwrap()
        .map_err(|r| r.code.as_str())
}

#[tokio::test]
async fn marketing_without_a_grant_is_refused_with_the_reason() {
    let t = test_db().await;
    let w = world(&t.db).await;
    patient_writes(&t.db, &w, T0).await;
    let mut conn = t.db.pool().acquire().await.unwrap();
    let basis = SendBasis::Purpose(Purpose::Marketing);
    let refusal = consent::may_send(&mut conn, &w.clinic, &w.patient, &w.line, basis, T0)
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(refusal.code, "consent_required");
    // The reason names the purpose: in the staff's language through its catalog key, and in
    // the English detail.
    assert_eq!(
        refusal.args,
        vec![("purpose", Arg::Key("consent.purpose.marketing".into()))]
    );
    let detail = refusal.detail.clone().unwrap_or_default();
    assert!(detail.contains("news and offers"), "{detail}");
    drop(conn);

    record(&t.db, &w, Purpose::Marketing, Some(&w.line), true, T0 + 1).await;
    assert_eq!(may(&t.db, &w, &w.line, basis, T0 + 2).await, Ok(()));
    record(&t.db, &w, Purpose::Marketing, None, false, T0 + 3).await;
    // The channel's own grant still beats the later all-channels withdrawal…
    assert_eq!(may(&t.db, &w, &w.line, basis, T0 + 4).await, Ok(()));
    // …which decides every other channel.
    assert_eq!(
        may(&t.db, &w, &w.sms, basis, T0 + 4).await,
        Err("consent_withdrawn")
    );
}

#[tokio::test]
async fn a_channel_specific_withdrawal_beats_an_all_channels_grant() {
    let t = test_db().await;
    let w = world(&t.db).await;
    record(
        &t.db,
        &w,
        Purpose::HealthInformation,
        Some(&w.line),
        false,
        T0,
    )
    .await;
    record(&t.db, &w, Purpose::HealthInformation, None, true, T0 + 1).await;
    let basis = SendBasis::Purpose(Purpose::HealthInformation);
    assert_eq!(
        may(&t.db, &w, &w.line, basis, T0 + 2).await,
        Err("consent_withdrawn")
    );
    assert_eq!(may(&t.db, &w, &w.sms, basis, T0 + 2).await, Ok(()));

    let mut conn = t.db.pool().acquire().await.unwrap();
    let now = consent::current(&mut conn, &w.clinic, &w.patient)
        .await
        .unwrap();
    let on_line = now
        .iter()
        .find(|s| {
            s.purpose == Purpose::HealthInformation
                && s.channel_id.as_deref() == Some(w.line.as_str())
        })
        .unwrap();
    assert_eq!(
        (on_line.status, on_line.inherited),
        (Status::Withdrawn, false)
    );
}

#[tokio::test]
async fn care_is_implied_once_the_patient_writes_until_withdrawn() {
    let t = test_db().await;
    let w = world(&t.db).await;
    let care = SendBasis::Purpose(Purpose::Care);
    assert_eq!(
        may(&t.db, &w, &w.line, care, T0).await,
        Err("consent_required"),
        "never wrote: no care messages"
    );
    patient_writes(&t.db, &w, T0 + 1).await;
    assert_eq!(may(&t.db, &w, &w.line, care, T0 + 2).await, Ok(()));
    // Months later still: care does not expire with the reply window.
    assert_eq!(may(&t.db, &w, &w.line, care, T0 + 90 * DAY).await, Ok(()));
    // Only where the patient wrote.
    assert_eq!(
        may(&t.db, &w, &w.sms, care, T0 + 2).await,
        Err("consent_required")
    );
    record(&t.db, &w, Purpose::Care, None, false, T0 + 3).await;
    assert_eq!(
        may(&t.db, &w, &w.line, care, T0 + 4).await,
        Err("consent_withdrawn")
    );
    // A reply to the patient's own message needs no separate consent, even then.
    patient_writes(&t.db, &w, T0 + 5).await;
    assert_eq!(
        may(&t.db, &w, &w.line, SendBasis::ReplyToPatient, T0 + 6).await,
        Ok(())
    );
}

#[tokio::test]
async fn a_reply_is_a_reply_within_the_window_and_not_after() {
    let t = test_db().await;
    let w = world(&t.db).await;
    assert_eq!(
        may(&t.db, &w, &w.line, SendBasis::ReplyToPatient, T0).await,
        Err("outside_reply_window")
    );
    patient_writes(&t.db, &w, T0).await;
    assert_eq!(
        may(&t.db, &w, &w.line, SendBasis::ReplyToPatient, T0 + 6 * DAY).await,
        Ok(())
    );
    assert_eq!(
        may(&t.db, &w, &w.line, SendBasis::ReplyToPatient, T0 + 8 * DAY).await,
        Err("outside_reply_window")
    );
    assert_eq!(
        may(&t.db, &w, &w.sms, SendBasis::ReplyToPatient, T0 + 1).await,
        Err("outside_reply_window")
    );

    // The window is the channel's setting.
    sqlx::query("UPDATE channels SET settings = '{\"reply_window_days\": 10}' WHERE id = $1")
        .bind(w.line.as_str())
        .execute(t.db.pool())
        .await
        .unwrap();
    assert_eq!(
        may(&t.db, &w, &w.line, SendBasis::ReplyToPatient, T0 + 8 * DAY).await,
        Ok(())
    );
}

#[tokio::test]
async fn history_is_kept_in_order_and_every_change_is_audited() {
    let t = test_db().await;
    let w = world(&t.db).await;
    record(&t.db, &w, Purpose::Marketing, None, true, T0).await;
    record(&t.db, &w, Purpose::Marketing, Some(&w.line), false, T0).await;
    record(&t.db, &w, Purpose::Reminders, None, true, T0 + 5).await;
    let mut conn = t.db.pool().acquire().await.unwrap();
    let h = consent::history(&mut conn, &w.clinic, &w.patient)
        .await
        .unwrap();
    let seen: Vec<(&str, Option<&str>, i64)> = h
        .iter()
        .map(|e| (e.purpose.as_str(), e.channel_id.as_deref(), e.granted))
        .collect();
    assert_eq!(
        seen,
        vec![
            ("marketing", None, 1),
            ("marketing", Some(w.line.as_str()), 0),
            ("reminders", None, 1)
        ]
    );
    assert!(h
        .iter()
        .all(|e| e.source == "web_form" && e.actor_kind == "staff"));
    let audits: Vec<(String, String)> =
        sqlx::query_as("SELECT action, subject_ids FROM audit_events ORDER BY seq")
            .fetch_all(&mut *conn)
            .await
            .unwrap();
    let expected = format!("[\"{}\"]", w.patient);
    assert_eq!(audits.len(), 3);
    assert_eq!(audits[1], ("consent.withdraw".to_string(), expected));
}

#[tokio::test]
async fn a_staff_entry_needs_a_reason_and_every_entry_its_wording() {
    let t = test_db().await;
    let w = world(&t.db).await;
    let mut tx = t.db.begin().await.unwrap();
    let entry = |source, wording, reason| NewConsent {
        clinic: &w.clinic,
        patient: &w.patient,
        purpose: Purpose::Marketing,
        channel: None,
        granted: true,
        source,
        wording,
        reason,
        actor: ConsentActor::Staff("s1".into()),
        source_ip: None,
    };
    let b = t.db.backend();
    let err = consent::record(
        tx.conn(),
        b,
        entry(Source::Staff, "受け取ります", Some("  ")),
        T0,
    )
    .await
    .unwrap()
    .unwrap_err();
    assert_eq!(err.code, Code::ReasonRequired);
    let err = consent::record(tx.conn(), b, entry(Source::Import, " ", None), T0)
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(err.code, Code::WordingRequired);
    let ok = consent::record(
        tx.conn(),
        b,
        entry(Source::Staff, "受け取ります", Some("受付で口頭")),
        T0,
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(ok.reason.as_deref(), Some("受付で口頭"));
}

#[test]
fn a_channel_row_beats_a_later_all_channels_row_in_the_resolver() {
    let ev = |seq: i64, channel: Option<&str>, granted: i64| consent::ConsentEvent {
        seq,
        id: seq.to_string(),
        clinic_id: "c".into(),
        patient_id: "p".into(),
        purpose: "marketing".into(),
        channel_id: channel.map(str::to_string),
        granted,
        source: "chat".into(),
        wording: "w".into(),
        reason: None,
        actor_kind: "patient".into(),
        actor_id: None,
        at: seq,
    };
    let h = [ev(1, Some("line"), 0), ev(2, None, 1)];
    let s = consent::resolve(&h, Purpose::Marketing, Some("line"), true);
    assert_eq!((s.status, s.inherited), (Status::Withdrawn, false));
    let other = consent::resolve(&h, Purpose::Marketing, Some("sms"), true);
    assert_eq!((other.status, other.inherited), (Status::Granted, true));
    assert_eq!(
        consent::resolve(&[], Purpose::Marketing, Some("line"), true).status,
        Status::Unset
    );
    for p in Purpose::ALL {
        assert_eq!(Purpose::parse(p.code()), Some(p));
    }
}
