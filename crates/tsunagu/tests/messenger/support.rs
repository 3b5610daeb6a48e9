//! A Messenger channel (one Facebook Page and one Instagram account of the same Meta app)
//! connected through the API and pointed at the Messenger sandbox, on the app's fake clock.
use std::sync::Arc;

use reqwest::StatusCode;
use serde_json::{json, Value};
use tsunagu_core::{ClinicId, ConversationId, Role};
use tsunagu_inbox::reply::{queue_staff_reply, ReplyOutcome};
use tsunagu_sandbox::messenger::{MessengerSandbox, MessengerUser, PageConfig, Posted};

use crate::common::{spawn_app, TestApp};

pub const APP_SECRET: &str = "3f1c0a6d9b2e4f5a8c7d6e5f4a3b2c1d";
pub const VERIFY_TOKEN: &str = "sakura-verify-7781";
pub const PAGE: &str = "104385229123456";
pub const PAGE_TOKEN: &str = "EAAGpage-token-sakura-0001";
pub const IG: &str = "17841400000000001";
pub const IG_TOKEN: &str = "IGAApage-token-sakura-0002";
/// A page the channel does not list (another clinic's page on the same Meta app).
pub const OTHER_PAGE: &str = "999000111222333";
pub const PSID: &str = "6789012345678901";
pub const IGSID: &str = "1357924680135792";

pub struct Ms {
    pub app: TestApp,
    pub sb: MessengerSandbox,
    pub channel: String,
    pub webhook_url: String,
    staff: std::sync::OnceLock<String>,
}

pub async fn spawn() -> Ms {
    let app = spawn_app().await;
    let sb = MessengerSandbox::with_clock(Arc::new(app.clock.clone()));
    let addr = sb.spawn("127.0.0.1:0").await.unwrap();
    let (s, ch) = app
        .api_post(
            "/api/v1/channels",
            json!({
                "kind": "messenger",
                "name": "さくら内科 Messenger",
                "credentials": {
                    "app_secret": APP_SECRET,
                    "verify_token": VERIFY_TOKEN,
                    "pages": [
                        {"page_id": PAGE, "name": "さくら内科", "access_token": PAGE_TOKEN},
                        {"page_id": IG, "name": "sakura_clinic", "access_token": IG_TOKEN},
                    ],
                },
                "api_base_url": format!("http://{addr}/v23.0"),
            }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{ch}");
    let channel = ch["id"].as_str().unwrap().to_string();
    let webhook_url = ch["webhook_url"].as_str().unwrap().to_string();
    assert!(
        webhook_url.ends_with(&format!("/webhooks/messenger/{channel}")),
        "{webhook_url}"
    );
    let pages = [
        (PAGE, PAGE_TOKEN, false, PSID, "Hanako", "Yamada"),
        (IG, IG_TOKEN, true, IGSID, "Taro", "Suzuki"),
        (OTHER_PAGE, "EAAGother", false, PSID, "Jiro", "Sato"),
    ];
    for (page, token, instagram, user, first, last) in pages {
        sb.add_page(PageConfig {
            page_id: page.into(),
            name: format!("page {page}"),
            access_token: token.into(),
            app_secret: APP_SECRET.into(),
            webhook_url: Some(webhook_url.clone()),
            instagram,
        });
        sb.add_user(
            page,
            MessengerUser {
                psid: user.into(),
                first_name: first.into(),
                last_name: last.into(),
                profile_pic: None,
            },
        );
    }
    Ms {
        app,
        sb,
        channel,
        webhook_url,
        staff: std::sync::OnceLock::new(),
    }
}

impl Ms {
    /// The person writes to the page through the sandbox; the delivery must be accepted.
    pub async fn says(&self, page: &str, psid: &str, text: &str) -> Posted {
        let p = self.sb.user_text(page, psid, text).await.unwrap();
        assert_eq!(p.status, 200, "{}", String::from_utf8_lossy(&p.body));
        self.app.run_jobs().await;
        p
    }

    /// The conversation with this person on this channel.
    pub async fn conv(&self, psid: &str) -> String {
        self.text(&format!(
            "SELECT id FROM conversations WHERE channel_id = '{}' AND thread_key = '{psid}'",
            self.channel
        ))
        .await
        .unwrap_or_else(|| panic!("no conversation with {psid}"))
    }

    pub async fn text(&self, sql: &str) -> Option<String> {
        sqlx::query_scalar::<_, Option<String>>(sql)
            .fetch_optional(self.app.db.pool())
            .await
            .unwrap()
            .flatten()
    }

    pub async fn count(&self, sql: &str) -> i64 {
        self.app.count(sql).await
    }

    pub async fn messages(&self, conv: &str) -> Vec<Value> {
        let (s, m) = self
            .app
            .api_get(&format!("/api/v1/conversations/{conv}/messages"))
            .await;
        assert_eq!(s, StatusCode::OK, "{m}");
        m["items"].as_array().unwrap().clone()
    }

    pub async fn message(&self, conv: &str, id: &str) -> Value {
        self.messages(conv)
            .await
            .into_iter()
            .find(|m| m["id"] == id)
            .unwrap_or_else(|| panic!("message {id} not in {conv}"))
    }

    /// A reply through `POST /api/v1/conversations/{id}/messages` (an integration: `Author::Api`).
    pub async fn api_reply(&self, conv: &str, text: &str) -> (StatusCode, Value) {
        self.app
            .api_post(
                &format!("/api/v1/conversations/{conv}/messages"),
                json!({ "text": text }),
            )
            .await
    }

    /// A reply typed by a staff member in the inbox (what the UI's reply form calls).
    pub async fn staff_reply(&self, conv: &str, text: &str) -> ReplyOutcome {
        let staff = self.staff_id().await;
        let mut conn = self.app.db.pool().acquire().await.unwrap();
        let id = ConversationId::parse(conv).unwrap();
        let c = tsunagu_store::conversations::by_id(&mut conn, &self.app.clinic, &id)
            .await
            .unwrap()
            .unwrap();
        drop(conn);
        let now = tsunagu_core::Clock::now_ms(&self.app.clock);
        queue_staff_reply(&self.app.db, &self.clinic(), &c, Some(&staff), text, now)
            .await
            .unwrap()
    }

    fn clinic(&self) -> ClinicId {
        self.app.clinic.clone()
    }

    async fn staff_id(&self) -> String {
        if let Some(s) = self.staff.get() {
            return s.clone();
        }
        let now = tsunagu_core::Clock::now_ms(&self.app.clock);
        let mut conn = self.app.db.pool().acquire().await.unwrap();
        let id =
            tsunagu_accounts::staff::create(&mut conn, "nurse@sakura.example", "看護師", "x", now)
                .await
                .unwrap();
        tsunagu_accounts::staff::add_membership(
            &mut conn,
            &id,
            &self.app.clinic,
            Role::Receptionist,
            now,
        )
        .await
        .unwrap();
        let id = id.as_str().to_string();
        let _ = self.staff.set(id.clone());
        id
    }

    /// Sends to the Send API that were accepted for `page` (the whole request bodies).
    pub fn sent_bodies(&self, page: &str) -> Vec<Value> {
        self.sb
            .received()
            .into_iter()
            .filter(|r| r.page_id == page)
            .map(|r| r.body)
            .collect()
    }

    pub fn advance_hours(&self, h: i64) {
        self.app.clock.advance(chrono::Duration::hours(h));
    }

    /// Posts raw bytes to the channel's webhook with the given signature headers.
    pub async fn post_signed(
        &self,
        body: &[u8],
        sha256: Option<&str>,
        sha1: Option<&str>,
    ) -> StatusCode {
        let mut req = self
            .app
            .http
            .post(&self.webhook_url)
            .header("content-type", "application/json");
        if let Some(s) = sha256 {
            req = req.header("x-hub-signature-256", s);
        }
        if let Some(s) = sha1 {
            req = req.header("x-hub-signature", s);
        }
        req.body(body.to_vec()).send().await.unwrap().status()
    }
}

pub fn refused_code(o: &ReplyOutcome) -> Option<&'static str> {
    match o {
        ReplyOutcome::Refused(r) => Some(r.code()),
        ReplyOutcome::Queued(_) => None,
    }
}

pub fn queued_id(o: &ReplyOutcome) -> String {
    match o {
        ReplyOutcome::Queued(m) => m.id.clone(),
        ReplyOutcome::Refused(r) => panic!("refused: {}", r.code()),
    }
}
