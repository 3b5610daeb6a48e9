//! A real router over a fresh database, seeding helpers and a small request helper.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;
use tsunagu_accounts::tokens;
use tsunagu_core::config::Settings;
use tsunagu_core::{ChannelId, ChannelIdentityId, ClinicId, ConversationId, FakeClock, TokenScope};
use tsunagu_inbox::live::LiveHub;
use tsunagu_privacy::Cipher;
use tsunagu_store::conversations::{self, NewConversation, NewMessage};
use tsunagu_store::{channels, clinics, patients, Db};
use tsunagu_testkit::{test_db, TestDb};
use tsunagu_web::AppState;

/// 2026-01-01T00:00:00Z
pub const T0: i64 = 1_767_225_600_000;
pub const CLIENT_IP: &str = "203.0.113.7";
pub const KEY: [u8; 32] = [7; 32];

pub struct App {
    pub router: Router,
    pub db: Db,
    pub clock: FakeClock,
    pub live: LiveHub,
    _t: TestDb,
}

pub async fn app() -> App {
    app_with(test_settings()).await
}

/// Defaults, except that channels may point at provider emulators on 127.0.0.1 (tests of the
/// outbound rule start from this and turn it off).
pub fn test_settings() -> Settings {
    let mut s = Settings::default();
    s.outbound.allow_private_addresses = true;
    s
}

pub async fn app_with(settings: Settings) -> App {
    let t = test_db().await;
    let clock = FakeClock::new(tsunagu_core::clock::from_ms(T0));
    let live = LiveHub::new();
    let state = AppState::new(
        t.db.clone(),
        Arc::new(settings),
        Arc::new(clock.clone()),
        Cipher::new(&KEY),
        live.clone(),
    );
    App {
        router: tsunagu_web::router(state),
        db: t.db.clone(),
        clock,
        live,
        _t: t,
    }
}

pub struct Res {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub bytes: Vec<u8>,
    pub body: Value,
}

impl Res {
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }
}

pub struct Seeded {
    pub clinic: ClinicId,
    pub channel: ChannelId,
}

pub struct Conv {
    pub id: ConversationId,
    pub patient_id: String,
    pub identity_id: ChannelIdentityId,
}

impl App {
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> Res {
        let mut b = Request::builder().method(method).uri(path);
        if let Some(t) = token {
            b = b.header("authorization", format!("Bearer {t}"));
        }
        if body.is_some() {
            b = b.header("content-type", "application/json");
        }
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        let mut req = b
            .body(
                body.map(|v| Body::from(v.to_string()))
                    .unwrap_or_else(Body::empty),
            )
            .unwrap();
        let peer: SocketAddr = format!("{CLIENT_IP}:40000").parse().unwrap();
        req.extensions_mut().insert(ConnectInfo(peer));
        let res = self.router.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let headers = res.headers().clone();
        let bytes = res.into_body().collect().await.unwrap().to_bytes().to_vec();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Res {
            status,
            headers,
            bytes,
            body,
        }
    }

    pub async fn get(&self, path: &str, token: &str) -> Res {
        self.call(Method::GET, path, Some(token), None, &[]).await
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> Res {
        self.call(Method::POST, path, Some(token), Some(&body), &[])
            .await
    }

    pub async fn reply(
        &self,
        conv: &ConversationId,
        token: &str,
        text: &str,
        key: Option<&str>,
    ) -> Res {
        let headers: Vec<(&str, &str)> = key.map(|k| ("idempotency-key", k)).into_iter().collect();
        let body = serde_json::json!({ "text": text });
        let path = format!("/api/v1/conversations/{conv}/messages");
        self.call(Method::POST, &path, Some(token), Some(&body), &headers)
            .await
    }

    /// A clinic with one LINE channel.
    pub async fn clinic(&self, slug: &str) -> Seeded {
        let mut tx = self.db.begin().await.unwrap();
        let org = clinics::create_organization(tx.conn(), &format!("医療法人 {slug}"), T0)
            .await
            .unwrap();
        let clinic = clinics::create_clinic(
            tx.conn(),
            clinics::NewClinic {
                organization_id: &org,
                slug,
                name: slug,
                timezone: "Asia/Tokyo",
                locale: "ja",
            },
            T0,
        )
        .await
        .unwrap();
        let channel = channels::create(
            tx.conn(),
            channels::NewChannel {
                clinic_id: &clinic,
                kind: "line",
                name: "LINE",
                credentials_enc: "v1:seed",
                api_base_url: "http://127.0.0.1:1",
                api_data_base_url: None,
                settings: "{}",
            },
            T0,
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        Seeded { clinic, channel }
    }

    pub async fn token(&self, clinic: &ClinicId, scopes: &[TokenScope]) -> String {
        let mut tx = self.db.begin().await.unwrap();
        let (_, plaintext) = tokens::create_token(tx.conn(), clinic, "test", scopes, T0)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        plaintext
    }

    /// A patient's direct conversation with one inbound text at `at`.
    pub async fn conversation(&self, s: &Seeded, external_id: &str, text: &str, at: i64) -> Conv {
        let mut tx = self.db.begin().await.unwrap();
        let ident = patients::create_provisional(
            tx.conn(),
            &s.clinic,
            &s.channel,
            external_id,
            "山田 太郎",
            at,
        )
        .await
        .unwrap();
        let conv = conversations::find_or_create(
            tx.conn(),
            NewConversation {
                clinic_id: &s.clinic,
                channel_id: &s.channel,
                kind: "direct",
                thread_key: external_id,
                patient_id: Some(&ident.patient_id),
                channel_identity_id: Some(&ident.id),
                title: Some("山田 太郎"),
            },
            at,
        )
        .await
        .unwrap();
        let conv_id = ConversationId::from_db(conv.id.clone());
        self.message_in(&mut tx, s, &conv_id, text, at).await;
        tx.commit().await.unwrap();
        Conv {
            id: conv_id,
            patient_id: ident.patient_id,
            identity_id: ChannelIdentityId::from_db(ident.id),
        }
    }

    pub async fn message_in(
        &self,
        tx: &mut tsunagu_store::Tx,
        s: &Seeded,
        conv: &ConversationId,
        text: &str,
        at: i64,
    ) -> tsunagu_core::MessageId {
        conversations::insert_message(
            tx.conn(),
            NewMessage {
                clinic_id: &s.clinic,
                conversation_id: conv,
                channel_id: &s.channel,
                direction: "in",
                kind: "text",
                body: Some(text),
                payload: "{}",
                sender_identity_id: None,
                author_kind: "patient",
                author_staff_id: None,
                provider_message_id: None,
                status: "received",
                at_ms: at,
            },
        )
        .await
        .unwrap()
    }

    pub async fn scalar(&self, sql: &str, bind: &str) -> i64 {
        sqlx::query_scalar(sql)
            .bind(bind)
            .fetch_one(self.db.pool())
            .await
            .unwrap()
    }

    pub async fn jobs(&self) -> i64 {
        sqlx::query_scalar("SELECT COUNT(*) FROM outbox_jobs")
            .fetch_one(self.db.pool())
            .await
            .unwrap()
    }

    /// `(actor_id, subject_ids, source_ip)` of the audit rows with this action, oldest first.
    pub async fn audits(&self, action: &str) -> Vec<(Option<String>, String, Option<String>)> {
        sqlx::query_as("SELECT actor_id, subject_ids, source_ip FROM audit_events WHERE action = $1 ORDER BY seq")
            .bind(action)
            .fetch_all(self.db.pool())
            .await
            .unwrap()
    }
}

/// The ids of a list response's items.
pub fn ids(body: &Value) -> Vec<String> {
    body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_string())
        .collect()
}
