//! Reading conversations, messages, attachments and patients: clinic isolation, pagination and
//! the audit trail.
use std::collections::HashSet;

use axum::http::StatusCode;
use tsunagu_core::{MessageId, TokenScope};
use tsunagu_store::conversations::{self, NewAttachment};

use super::support::{app, ids, CLIENT_IP, T0};

#[tokio::test]
async fn a_token_sees_only_its_own_clinic() {
    let app = app().await;
    let a = app.clinic("a-clinic").await;
    let b = app.clinic("b-clinic").await;
    let conv_a = app.conversation(&a, "UA", "A の患者", T0).await;
    let conv_b = app.conversation(&b, "UB", "B の患者", T0 + 10).await;
    let token_a = app.token(&a.clinic, &[TokenScope::Admin]).await;

    let res = app.get("/api/v1/conversations", &token_a).await;
    assert_eq!(ids(&res.body), vec![conv_a.id.to_string()]);
    let res = app.get("/api/v1/channels", &token_a).await;
    assert_eq!(ids(&res.body), vec![a.channel.to_string()]);

    let not_found = [
        format!("/api/v1/conversations/{}/messages", conv_b.id),
        format!("/api/v1/patients/{}", conv_b.patient_id),
        "/api/v1/patients/not-a-uuid".to_string(),
        format!("/api/v1/conversations/{}/messages", uuid::Uuid::now_v7()),
    ];
    for path in not_found {
        let res = app.get(&path, &token_a).await;
        assert_eq!(res.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(res.code(), "not_found");
    }
    let res = app.reply(&conv_b.id, &token_a, "届かないはず", None).await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    assert_eq!(app.jobs().await, 0);

    // An attachment of clinic B is as invisible as one that does not exist.
    let mut tx = app.db.begin().await.unwrap();
    let msg = app
        .message_in(&mut tx, &b, &conv_b.id, "画像", T0 + 20)
        .await;
    let att = attach(&mut tx, &b.clinic, &msg, b"\x89PNG").await;
    tx.commit().await.unwrap();
    let res = app
        .get(&format!("/api/v1/attachments/{att}"), &token_a)
        .await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
}

async fn attach(
    tx: &mut tsunagu_store::Tx,
    clinic: &tsunagu_core::ClinicId,
    msg: &MessageId,
    data: &[u8],
) -> String {
    conversations::insert_attachment(
        tx.conn(),
        NewAttachment {
            clinic_id: clinic,
            message_id: msg,
            content_type: "image/png",
            data,
            sha256_hex: "00",
        },
        T0,
    )
    .await
    .unwrap()
}

#[tokio::test]
async fn cursor_pagination_walks_every_conversation_exactly_once() {
    let app = app().await;
    let s = app.clinic("sakura").await;
    let other = app.clinic("other").await;
    app.conversation(&other, "UX", "よそ", T0 + 3).await;
    let mut expected = Vec::new();
    for i in 0..7 {
        // Pairs share a timestamp, so the id breaks ties.
        let c = app
            .conversation(&s, &format!("U{i}"), "予約したいです", T0 + (i / 2) * 1000)
            .await;
        expected.push(c.id.to_string());
    }
    let token = app.token(&s.clinic, &[TokenScope::Read]).await;

    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/conversations?limit=3&cursor={c}"),
            None => "/api/v1/conversations?limit=3".to_string(),
        };
        let res = app.get(&path, &token).await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.body);
        seen.extend(ids(&res.body));
        pages += 1;
        match res.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
        assert!(pages < 10, "pagination does not end");
    }
    assert_eq!(pages, 3);
    assert_eq!(seen.len(), 7);
    assert_eq!(
        seen.iter().collect::<HashSet<_>>(),
        expected.iter().collect::<HashSet<_>>()
    );
    // Newest activity first.
    let first = app.get("/api/v1/conversations?limit=1", &token).await;
    assert_eq!(
        first.body["items"][0]["last_message_at"],
        "2026-01-01T00:00:03.000Z"
    );

    for (q, code) in [
        ("limit=0", "invalid_limit"),
        ("limit=101", "invalid_limit"),
        ("cursor=garbage", "invalid_cursor"),
        ("status=lost", "invalid_request"),
    ] {
        let res = app.get(&format!("/api/v1/conversations?{q}"), &token).await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{q}");
        assert_eq!(res.code(), code, "{q}");
    }
}

#[tokio::test]
async fn conversations_filter_by_status_and_assignee() {
    let app = app().await;
    let s = app.clinic("sakura").await;
    let open = app.conversation(&s, "U1", "a", T0).await;
    let done = app.conversation(&s, "U2", "b", T0 + 1).await;
    sqlx::query("UPDATE conversations SET status = 'resolved' WHERE id = $1")
        .bind(done.id.as_str())
        .execute(app.db.pool())
        .await
        .unwrap();
    let token = app.token(&s.clinic, &[TokenScope::Read]).await;
    let res = app
        .get("/api/v1/conversations?status=resolved&limit=1", &token)
        .await;
    assert_eq!(ids(&res.body), vec![done.id.to_string()]);
    assert!(res.body["next_cursor"].is_null());
    let res = app.get("/api/v1/conversations?status=open", &token).await;
    assert_eq!(ids(&res.body), vec![open.id.to_string()]);
    let res = app.get("/api/v1/conversations?assignee=none", &token).await;
    assert_eq!(ids(&res.body).len(), 2);
    let res = app
        .get(
            &format!("/api/v1/conversations?assignee={}", uuid::Uuid::now_v7()),
            &token,
        )
        .await;
    assert_eq!(ids(&res.body).len(), 0);
}

#[tokio::test]
async fn messages_come_oldest_first_with_attachments_and_unsent_tombstones() {
    let app = app().await;
    let s = app.clinic("sakura").await;
    let conv = app.conversation(&s, "U1", "一通目", T0).await;
    let mut tx = app.db.begin().await.unwrap();
    let image = app.message_in(&mut tx, &s, &conv.id, "", T0 + 1).await;
    let att = attach(&mut tx, &s.clinic, &image, b"\x89PNG-bytes").await;
    for i in 2..6 {
        app.message_in(&mut tx, &s, &conv.id, &format!("{i}通目"), T0 + i)
            .await;
    }
    tx.commit().await.unwrap();
    let mut conn = app.db.pool().acquire().await.unwrap();
    sqlx::query("UPDATE messages SET provider_message_id = 'P5' WHERE body = '5通目'")
        .execute(&mut *conn)
        .await
        .unwrap();
    conversations::mark_unsent(&mut conn, &s.channel, "P5", T0 + 9)
        .await
        .unwrap();
    drop(conn);
    let token = app.token(&s.clinic, &[TokenScope::Read]).await;

    let mut items = Vec::new();
    let mut path = format!("/api/v1/conversations/{}/messages?limit=2", conv.id);
    loop {
        let res = app.get(&path, &token).await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.body);
        items.extend(res.body["items"].as_array().unwrap().clone());
        match res.body["next_cursor"].as_str() {
            Some(c) => {
                path = format!(
                    "/api/v1/conversations/{}/messages?limit=2&cursor={c}",
                    conv.id
                )
            }
            None => break,
        }
    }
    assert_eq!(items.len(), 6);
    assert_eq!(items[0]["text"], "一通目");
    assert_eq!(items[0]["direction"], "in");
    assert_eq!(items[0]["created_at"], "2026-01-01T00:00:00.000Z");
    assert_eq!(items[1]["attachments"][0]["id"], att.as_str());
    assert_eq!(items[1]["attachments"][0]["content_type"], "image/png");
    assert_eq!(items[5]["unsent"], true);
    assert!(items[5]["text"].is_null());
    assert_eq!(items[4]["unsent"], false);
    assert_eq!(
        app.audits("api.conversation.read").await.len(),
        3,
        "one audit row per page"
    );

    let url = items[1]["attachments"][0]["url"]
        .as_str()
        .unwrap()
        .to_string();
    let res = app.get(&url, &token).await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(res.headers["content-type"], "image/png");
    assert_eq!(res.bytes, b"\x89PNG-bytes");
    let audits = app.audits("api.attachment.read").await;
    assert_eq!(audits.len(), 1);
    assert!(audits[0].1.contains(&att));
}

#[tokio::test]
async fn a_patient_is_read_with_identities_and_every_read_is_audited() {
    let app = app().await;
    let s = app.clinic("sakura").await;
    let conv = app.conversation(&s, "U4af4980629", "こんにちは", T0).await;
    let token = app.token(&s.clinic, &[TokenScope::Read]).await;
    let token_id: String = sqlx::query_scalar("SELECT id FROM api_tokens")
        .fetch_one(app.db.pool())
        .await
        .unwrap();

    let res = app
        .get(&format!("/api/v1/patients/{}", conv.patient_id), &token)
        .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(res.body["display_name"], "山田 太郎");
    assert_eq!(res.body["provisional"], true);
    assert_eq!(res.body["identities"][0]["kind"], "line");
    assert_eq!(res.body["identities"][0]["external_id"], "U4af4980629");
    assert_eq!(res.body["identities"][0]["verified"], false);
    assert_eq!(res.body["created_at"], "2026-01-01T00:00:00.000Z");

    let audits = app.audits("api.patient.read").await;
    assert_eq!(audits.len(), 1);
    assert_eq!(audits[0].0.as_deref(), Some(token_id.as_str()));
    assert!(audits[0].1.contains(&conv.patient_id));
    assert_eq!(audits[0].2.as_deref(), Some(CLIENT_IP));

    app.get("/api/v1/conversations", &token).await;
    let audits = app.audits("api.conversations.list").await;
    assert_eq!(audits.len(), 1, "a list page is one event");
    assert!(audits[0].1.contains(conv.id.as_str()));
    let kind: String = sqlx::query_scalar(
        "SELECT actor_kind FROM audit_events WHERE action = 'api.conversations.list'",
    )
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    assert_eq!(kind, "token");
    assert_eq!(
        tsunagu_privacy::audit::verify(&app.db).await.unwrap(),
        tsunagu_privacy::audit::Verdict::Intact { rows: 2 }
    );
}
