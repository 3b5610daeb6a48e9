//! A WhatsApp channel on the app of `common::spawn_app`, connected through the channels API to
//! the WhatsApp sandbox (on the app's fake clock; `tsunagu_testkit::app::whatsapp`), with typed
//! helpers for the tests.
use reqwest::StatusCode;
use serde_json::{json, Value};
use tsunagu_channels::ChannelKind;
use tsunagu_sandbox::whatsapp::{Posted, WhatsAppSandbox};

use crate::common::{self, TestApp};

#[allow(unused_imports)] // not every test binary uses every name
pub use tsunagu_testkit::app::whatsapp::{
    ACCESS_TOKEN, APP_SECRET, DISPLAY, OTHER_PHONE_ID, PATIENT, PATIENT_NAME, PHONE_ID,
    VERIFY_TOKEN, WABA,
};

pub struct Wa {
    pub app: TestApp,
    pub sb: WhatsAppSandbox,
    pub channel: String,
    pub webhook_url: String,
}

pub async fn spawn() -> Wa {
    let builder = common::builder().with_channels(&[ChannelKind::WhatsApp]);
    let app = common::start(builder).await;
    let wa = app.whatsapp();
    Wa {
        sb: wa.sandbox.clone(),
        channel: wa.channel.to_string(),
        webhook_url: wa.webhook_url.clone(),
        app,
    }
}

impl Wa {
    /// The patient writes; the delivery is answered 200 and the jobs it queued are run.
    pub async fn patient_says(&self, text: &str) -> Posted {
        let p = self
            .sb
            .user_text(PHONE_ID, PATIENT, PATIENT_NAME, text)
            .await
            .unwrap();
        assert_eq!(p.status, 200);
        self.app.run_jobs().await;
        p
    }

    /// The only conversation's id.
    pub async fn conversation(&self) -> String {
        let (s, list) = self.app.api_get("/api/v1/conversations").await;
        assert_eq!(s, StatusCode::OK, "{list}");
        let items = list["items"].as_array().unwrap();
        assert_eq!(items.len(), 1, "{list}");
        items[0]["id"].as_str().unwrap().to_string()
    }

    /// A staff reply through the API: (status, body).
    pub async fn reply(&self, conv: &str, text: &str) -> (StatusCode, Value) {
        self.app
            .api_post(
                &format!("/api/v1/conversations/{conv}/messages"),
                json!({ "text": text }),
            )
            .await
    }

    /// A staff reply that must be queued: its message id.
    pub async fn queued_reply(&self, conv: &str, text: &str) -> String {
        let (s, m) = self.reply(conv, text).await;
        assert_eq!(s, StatusCode::CREATED, "{m}");
        m["id"].as_str().unwrap().to_string()
    }

    pub async fn messages(&self, conv: &str) -> Vec<Value> {
        let (s, page) = self
            .app
            .api_get(&format!("/api/v1/conversations/{conv}/messages"))
            .await;
        assert_eq!(s, StatusCode::OK, "{page}");
        page["items"].as_array().unwrap().clone()
    }

    /// One message of the conversation, as the API shows it.
    pub async fn message(&self, conv: &str, id: &str) -> Value {
        self.messages(conv)
            .await
            .into_iter()
            .find(|m| m["id"] == id)
            .unwrap_or_else(|| panic!("message {id} not in conversation {conv}"))
    }

    /// A text column of one row (`$1` bound to `arg`).
    pub async fn text_of(&self, sql: &str, arg: &str) -> Option<String> {
        sqlx::query_scalar::<_, Option<String>>(sql)
            .bind(arg)
            .fetch_one(self.app.db.pool())
            .await
            .unwrap()
    }

    /// The wamid tsunagu recorded for a message.
    pub async fn wamid_of(&self, message_id: &str) -> Option<String> {
        self.text_of(
            "SELECT provider_message_id FROM messages WHERE id = $1",
            message_id,
        )
        .await
    }

    /// Row counts that a redelivery must not change.
    pub async fn counts(&self) -> [i64; 5] {
        let c = |sql| self.app.count(sql);
        [
            c("SELECT COUNT(*) FROM webhook_events").await,
            c("SELECT COUNT(*) FROM messages").await,
            c("SELECT COUNT(*) FROM outbox_jobs").await,
            c("SELECT COUNT(*) FROM patients").await,
            c("SELECT COUNT(*) FROM attachments").await,
        ]
    }

    /// Sends to the business API that the sandbox accepted (mark-as-read excluded).
    pub fn sends(&self) -> Vec<tsunagu_sandbox::whatsapp::Received> {
        self.sb
            .received()
            .into_iter()
            .filter(|r| r.wamid.is_some())
            .collect()
    }

    /// Posts raw bytes to the webhook with the given headers.
    pub async fn post_raw(&self, body: &[u8], headers: &[(&str, String)]) -> StatusCode {
        let mut req = self
            .app
            .http
            .post(&self.webhook_url)
            .header("content-type", "application/json");
        for (k, v) in headers {
            req = req.header(*k, v);
        }
        req.body(body.to_vec()).send().await.unwrap().status()
    }
}
