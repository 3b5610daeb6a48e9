//! The app of `tsunagu_testkit::app` (the real router over a fresh database, in process),
//! seeding helpers and a small request helper.
#![allow(dead_code)]

use std::ops::Deref;

use axum::http::{HeaderMap, Method, StatusCode};
use serde_json::Value;
use tsunagu_accounts::tokens;
use tsunagu_core::config::Settings;
use tsunagu_core::{ChannelId, ChannelIdentityId, ClinicId, ConversationId, TokenScope};
use tsunagu_store::conversations::{self, NewConversation, NewMessage};
use tsunagu_store::{channels, clinics, patients};
use tsunagu_testkit::app::Response;
use tsunagu_testkit::TestApp;

#[allow(unused_imports)] // not every test binary uses it
pub use tsunagu_testkit::app::KEY;

/// 2026-01-01T00:00:00Z
pub const T0: i64 = 1_767_225_600_000;
pub const CLIENT_IP: &str = "203.0.113.7";

pub struct App {
    pub app: TestApp,
}

impl Deref for App {
    type Target = TestApp;
    fn deref(&self) -> &TestApp {
        &self.app
    }
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
    let app = TestApp::builder()
        .settings(|s| *s = settings)
        .clock_ms(T0)
        .client_ip(CLIENT_IP)
        .local_live_events()
        .start()
        .await;
    App { app }
}

pub struct Res {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub bytes: Vec<u8>,
    pub body: Value,
}

impl From<Response> for Res {
    fn from(r: Response) -> Self {
        Res {
            body: r.json(),
            status: r.status,
            headers: r.headers,
            bytes: r.bytes,
        }
    }
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
        let mut call = self.request(method, path);
        if let Some(t) = token {
            call = call.bearer(t);
        }
        if let Some(v) = body {
            call = call.json(v);
        }
        for (k, v) in headers {
            call = call.header(k, v);
        }
        call.send().await.into()
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
