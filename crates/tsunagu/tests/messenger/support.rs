//! A Messenger channel (one Facebook Page and one Instagram account of the same Meta app)
//! connected through the API and pointed at the Messenger sandbox, on the app's fake clock
//! (`tsunagu_testkit::app::messenger`).
use reqwest::StatusCode;
use serde_json::{json, Value};
use tsunagu_channels::ChannelKind;
use tsunagu_core::{ClinicId, ConversationId, Role};
use tsunagu_inbox::reply::{queue_staff_reply, ReplyOutcome};
use tsunagu_sandbox::messenger::{MessengerSandbox, Posted};

use crate::common::{self, TestApp};

#[allow(unused_imports)] // not every test binary uses every name
pub use tsunagu_testkit::app::messenger::{
    APP_SECRET, IG, IGSID, IG_TOKEN, OTHER_PAGE, PAGE, PAGE_TOKEN, PSID, VERIFY_TOKEN,
};

pub struct Ms {
    pub app: TestApp,
    pub sb: MessengerSandbox,
    pub channel: String,
    pub webhook_url: String,
    staff: std::sync::OnceLock<String>,
}

pub async fn spawn() -> Ms {
    let builder = common::builder().with_channels(&[ChannelKind::Messenger]);
    let app = common::start(builder).await;
    let ms = app.messenger();
    Ms {
        sb: ms.sandbox.clone(),
        channel: ms.channel.to_string(),
        webhook_url: ms.webhook_url.clone(),
        app,
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
        ReplyOutcome::Refused(r) => Some(r.code.as_str()),
        ReplyOutcome::Queued(_) => None,
    }
}

pub fn queued_id(o: &ReplyOutcome) -> String {
    match o {
        ReplyOutcome::Queued(m) => m.id.clone(),
        ReplyOutcome::Refused(r) => panic!("refused: {}", r.code),
    }
}
