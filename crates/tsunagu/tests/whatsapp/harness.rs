//! A WhatsApp channel on the app of `common::spawn_app`, connected through the channels API to
//! the WhatsApp sandbox (on the app's fake clock), with typed helpers for the tests.
use std::sync::Arc;

use reqwest::StatusCode;
use serde_json::{json, Value};
use tsunagu_sandbox::whatsapp::{PhoneNumberConfig, Posted, WhatsAppSandbox};

use crate::common::{spawn_app, TestApp};

/// The clinic's business number (Meta's "Phone number ID"), and its WhatsApp Business Account.
pub const PHONE_ID: &str = "106540352242922";
pub const DISPLAY: &str = "15550783881";
pub const WABA: &str = "102290129340398";
/// Another number of the same Meta app that this channel does not serve.
pub const OTHER_PHONE_ID: &str = "106540352249999";
pub const APP_SECRET: &str = "5f1c0a9e8b7d6c5b4a39281706f5e4d3";
pub const VERIFY_TOKEN: &str = "tsunagu-verify-7f3a";
pub const ACCESS_TOKEN: &str = "EAAwhatsapp-test-token-0123456789";
pub const PATIENT: &str = "819012345678";
pub const PATIENT_NAME: &str = "佐藤 花子";

pub struct Wa {
    pub app: TestApp,
    pub sb: WhatsAppSandbox,
    pub channel: String,
    pub webhook_url: String,
}

pub async fn spawn() -> Wa {
    let app = spawn_app().await;
    let sb = WhatsAppSandbox::with_clock(Arc::new(app.clock.clone()));
    let addr = sb.spawn("127.0.0.1:0").await.unwrap();
    let (s, created) = app
        .api_post(
            "/api/v1/channels",
            json!({
                "kind": "whatsapp",
                "name": "さくら内科 WhatsApp",
                "credentials": {
                    "app_secret": APP_SECRET,
                    "verify_token": VERIFY_TOKEN,
                    "access_token": ACCESS_TOKEN,
                    "waba_id": WABA,
                    "phone_numbers": [{"phone_number_id": PHONE_ID, "display_phone_number": "+1 555-078-3881"}],
                },
                "api_base_url": format!("http://{addr}/v23.0"),
            }),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{created}");
    let channel = created["id"].as_str().unwrap().to_string();
    let webhook_url = created["webhook_url"].as_str().unwrap().to_string();
    assert_eq!(
        webhook_url,
        format!("{}/webhooks/whatsapp/{channel}", app.base)
    );
    for (id, display) in [(PHONE_ID, DISPLAY), (OTHER_PHONE_ID, "15550789999")] {
        sb.add_phone_number(PhoneNumberConfig {
            phone_number_id: id.into(),
            display_phone_number: display.into(),
            waba_id: WABA.into(),
            // Another number would have its own token; only ours is known to tsunagu.
            access_token: if id == PHONE_ID {
                ACCESS_TOKEN.into()
            } else {
                format!("{ACCESS_TOKEN}-other")
            },
            app_secret: APP_SECRET.into(),
            webhook_url: Some(webhook_url.clone()),
        });
    }
    Wa {
        app,
        sb,
        channel,
        webhook_url,
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
