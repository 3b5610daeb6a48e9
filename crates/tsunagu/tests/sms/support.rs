//! An app with an SMS channel connected through the API to the Twilio sandbox, which shares the
//! app's fake clock (`tsunagu_testkit::app::sms`), plus the reads the SMS tests share.
use std::ops::Deref;

use reqwest::StatusCode;
use serde_json::{json, Value};
use tsunagu_channels::ChannelKind;
use tsunagu_sandbox::twilio::{Delivery, SmsMessage, TwilioSandbox};

use tsunagu_core::config::Settings;

use crate::common::{self, TestApp};

#[allow(unused_imports)] // not every test binary uses every name
pub use tsunagu_testkit::app::sms::{ACCOUNT, AUTH_TOKEN, CLINIC, OTHER_NUMBER, PATIENT};

pub struct SmsApp {
    pub app: TestApp,
    pub twilio: TwilioSandbox,
    /// The SMS channel's id.
    pub sms_channel: String,
    /// Where the app receives the channel's SMS (its own address).
    pub webhook_url: String,
}

impl Deref for SmsApp {
    type Target = TestApp;
    fn deref(&self) -> &TestApp {
        &self.app
    }
}

/// The app, the Twilio sandbox on the same clock, and an SMS channel created through
/// `POST /api/v1/channels` whose webhook URL is configured on the sandbox number.
pub async fn spawn_sms_app() -> SmsApp {
    spawn_sms_app_with(|_| {}).await
}

/// As [`spawn_sms_app`], with settings changed first (e.g. a public URL behind a proxy). The
/// sandbox number's webhook is the app's own address either way.
pub async fn spawn_sms_app_with(change: impl FnOnce(&mut Settings)) -> SmsApp {
    let builder = common::builder()
        .settings(change)
        .with_channels(&[ChannelKind::Sms]);
    let app = common::start(builder).await;
    let sms = app.sms();
    SmsApp {
        twilio: sms.sandbox.clone(),
        sms_channel: sms.channel.to_string(),
        webhook_url: sms.webhook_url.clone(),
        app,
    }
}

/// A message row as the database holds it (the API does not show the provider's id).
#[derive(Debug)]
pub struct Row {
    pub status: String,
    pub provider_message_id: Option<String>,
    pub failure_code: Option<String>,
    pub failure_reason: Option<String>,
}

impl SmsApp {
    /// The patient texts the clinic; Twilio's post must be answered 200.
    pub async fn patient_texts(&self, body: &str) -> Delivery {
        let d = self.twilio.user_sms(CLINIC, PATIENT, body).await.unwrap();
        assert_eq!(d.status, 200, "{d:?}");
        d
    }

    /// The patient's conversation on the SMS channel.
    pub async fn conversation(&self) -> String {
        sqlx::query_scalar("SELECT id FROM conversations WHERE channel_id = $1 AND thread_key = $2")
            .bind(&self.sms_channel)
            .bind(PATIENT)
            .fetch_one(self.db.pool())
            .await
            .unwrap()
    }

    /// The patient texts, the jobs run, and the conversation's id comes back.
    pub async fn patient_says(&self, body: &str) -> String {
        self.patient_texts(body).await;
        self.run_jobs().await;
        self.conversation().await
    }

    /// `POST /api/v1/conversations/{conv}/messages`.
    pub async fn reply(&self, conv: &str, text: &str) -> (StatusCode, Value) {
        self.api_post(
            &format!("/api/v1/conversations/{conv}/messages"),
            json!({"text": text}),
        )
        .await
    }

    /// A staff reply that must be queued: its message id.
    pub async fn reply_queued(&self, conv: &str, text: &str) -> String {
        let (s, m) = self.reply(conv, text).await;
        assert_eq!(s, StatusCode::CREATED, "{m}");
        m["id"].as_str().unwrap().to_string()
    }

    pub async fn row(&self, message_id: &str) -> Row {
        let (status, provider_message_id, failure_code, failure_reason) =
            sqlx::query_as::<_, (String, Option<String>, Option<String>, Option<String>)>(
                "SELECT status, provider_message_id, failure_code, failure_reason
                 FROM messages WHERE id = $1",
            )
            .bind(message_id)
            .fetch_one(self.db.pool())
            .await
            .unwrap();
        Row {
            status,
            provider_message_id,
            failure_code,
            failure_reason,
        }
    }

    /// The patient's identity on the SMS channel: (opted_out_at, opt_out_source).
    pub async fn opt_out(&self) -> (Option<i64>, Option<String>) {
        sqlx::query_as(
            "SELECT opted_out_at, opt_out_source FROM channel_identities
             WHERE channel_id = $1 AND external_id = $2",
        )
        .bind(&self.sms_channel)
        .bind(PATIENT)
        .fetch_one(self.db.pool())
        .await
        .unwrap()
    }

    /// What the sandbox received through the API for the patient.
    pub fn sent(&self) -> Vec<SmsMessage> {
        self.twilio.sent_to(PATIENT)
    }

    /// Every `Messages.json` call that reached the sandbox, refused ones included.
    pub fn send_calls(&self) -> usize {
        self.twilio.calls_to("/Messages.json")
    }

    /// The conversation's messages through the API.
    pub async fn messages(&self, conv: &str) -> Vec<Value> {
        let (s, page) = self
            .api_get(&format!("/api/v1/conversations/{conv}/messages"))
            .await;
        assert_eq!(s, StatusCode::OK, "{page}");
        page["items"].as_array().unwrap().clone()
    }
}
