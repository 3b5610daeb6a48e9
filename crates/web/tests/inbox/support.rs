//! The app of `tsunagu_testkit::app` (the real router over a fresh database, in process),
//! signed-in staff sessions and seeding helpers for the inbox pages.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::ops::Deref;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use tsunagu_core::config::Settings;
use tsunagu_core::{ChannelId, ClinicId, ConversationId, MessageId, Role};
use tsunagu_store::conversations::{self, NewAttachment, NewConversation, NewMessage};
use tsunagu_store::{channels, clinics, patients};
use tsunagu_testkit::app::Response;
use tsunagu_testkit::TestApp;

/// A signed-in staff member: the cookie token and the form token.
pub use tsunagu_testkit::app::StaffSession as Session;

/// 2026-11-23T00:41:00Z, 09:41 in Tokyo.
pub const T0: i64 = 1_795_394_460_000;
pub const CLIENT_IP: &str = "203.0.113.9";

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

pub struct Seeded {
    pub clinic: ClinicId,
    pub channel: ChannelId,
}

pub struct Conv {
    pub id: ConversationId,
    pub patient_id: String,
    pub identity_id: String,
}

pub struct Res {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub text: String,
}

impl From<Response> for Res {
    fn from(r: Response) -> Self {
        Res {
            text: r.text(),
            status: r.status,
            headers: r.headers,
        }
    }
}

impl Res {
    /// The page with the entities the template escaper writes for `/` and `&` in URLs decoded,
    /// as a browser reads attribute values.
    pub fn urls(&self) -> String {
        self.text.replace("&#x2f;", "/").replace("&amp;", "&")
    }
    pub fn location(&self) -> &str {
        self.headers
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
}

/// A request as a page sends it, for a test that reads the response itself (the live stream).
pub fn request(
    method: Method,
    path: &str,
    session: Option<&Session>,
    form: Option<String>,
) -> Request<Body> {
    let mut b = Request::builder().method(method).uri(path);
    if let Some(s) = session {
        b = b.header("cookie", format!("tsunagu_session={}", s.cookie));
    }
    if form.is_some() {
        b = b.header("content-type", "application/x-www-form-urlencoded");
    }
    let mut req = b
        .body(form.map(Body::from).unwrap_or_else(Body::empty))
        .unwrap();
    let peer: SocketAddr = format!("{CLIENT_IP}:40000").parse().unwrap();
    req.extensions_mut().insert(ConnectInfo(peer));
    req
}

impl App {
    pub async fn send(&self, req: Request<Body>) -> Res {
        self.app.send(req).await.into()
    }

    pub async fn get(&self, path: &str, s: &Session) -> Res {
        self.request(Method::GET, path)
            .session(s)
            .send()
            .await
            .into()
    }

    pub async fn post_form(&self, path: &str, s: &Session, fields: &[(&str, &str)]) -> Res {
        self.request(Method::POST, path)
            .session(s)
            .form(fields)
            .send()
            .await
            .into()
    }

    /// A Japanese clinic with one LINE channel.
    pub async fn clinic(&self, slug: &str, name: &str) -> Seeded {
        let mut tx = self.db.begin().await.unwrap();
        let org = clinics::create_organization(tx.conn(), &format!("医療法人 {slug}"), T0)
            .await
            .unwrap();
        let clinic = clinics::create_clinic(
            tx.conn(),
            clinics::NewClinic {
                organization_id: &org,
                slug,
                name,
                timezone: "Asia/Tokyo",
                locale: "ja-JP",
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
                name: "LINE公式アカウント",
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

    /// A staff member with `role` in the clinic, signed in with both factors.
    pub async fn sign_in(&self, clinic: &ClinicId, role: Role, name: &str) -> Session {
        self.staff_session(clinic, role, name).await
    }

    pub fn now(&self) -> i64 {
        self.now_ms()
    }

    /// A patient's one-to-one chat with a profile, and one inbound text at `at`.
    pub async fn conversation(
        &self,
        s: &Seeded,
        line_user: &str,
        name: &str,
        text: &str,
        at: i64,
    ) -> Conv {
        let mut tx = self.db.begin().await.unwrap();
        let ident =
            patients::create_provisional(tx.conn(), &s.clinic, &s.channel, line_user, "", at)
                .await
                .unwrap();
        let ident_id = tsunagu_core::ChannelIdentityId::from_db(ident.id.clone());
        let profile = patients::Profile {
            display_name: name,
            picture_url: Some("https://profile.line-scdn.net/test"),
            status_message: Some("よろしくお願いします"),
            language: Some("ja"),
        };
        patients::set_profile(tx.conn(), &ident_id, profile, at)
            .await
            .unwrap();
        patients::set_follow_state(tx.conn(), &ident_id, "following", at)
            .await
            .unwrap();
        let conv = conversations::find_or_create(
            tx.conn(),
            NewConversation {
                clinic_id: &s.clinic,
                channel_id: &s.channel,
                kind: "direct",
                thread_key: line_user,
                patient_id: Some(&ident.patient_id),
                channel_identity_id: Some(&ident.id),
                title: None,
            },
            at,
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        let c = Conv {
            id: ConversationId::from_db(conv.id),
            patient_id: ident.patient_id,
            identity_id: ident.id,
        };
        self.message(s, &c, "in", "text", Some(text), "{}", at)
            .await;
        c
    }

    #[allow(clippy::too_many_arguments)]
    pub async fn message(
        &self,
        s: &Seeded,
        c: &Conv,
        direction: &str,
        kind: &str,
        body: Option<&str>,
        payload: &str,
        at: i64,
    ) -> MessageId {
        let mut tx = self.db.begin().await.unwrap();
        let inbound = direction == "in";
        let id = conversations::insert_message(
            tx.conn(),
            NewMessage {
                clinic_id: &s.clinic,
                conversation_id: &c.id,
                channel_id: &s.channel,
                direction,
                kind,
                body,
                payload,
                sender_identity_id: inbound.then_some(c.identity_id.as_str()),
                author_kind: if inbound { "patient" } else { "staff" },
                author_staff_id: None,
                provider_message_id: None,
                status: if inbound { "received" } else { "queued" },
                at_ms: at,
            },
        )
        .await
        .unwrap();
        tx.commit().await.unwrap();
        id
    }

    pub async fn attachment(
        &self,
        s: &Seeded,
        message: &MessageId,
        content_type: &str,
        data: &[u8],
    ) -> String {
        let mut tx = self.db.begin().await.unwrap();
        let a = NewAttachment {
            clinic_id: &s.clinic,
            message_id: message,
            content_type,
            data,
            sha256_hex: "00",
        };
        let id = conversations::insert_attachment(tx.conn(), a, T0)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        id
    }

    pub async fn count(&self, sql: &str, bind: &str) -> i64 {
        sqlx::query_scalar(sql)
            .bind(bind)
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
