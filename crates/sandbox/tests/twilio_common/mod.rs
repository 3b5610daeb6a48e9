//! Shared Twilio test setup: a sandbox on 127.0.0.1:0 on a fake clock, one clinic number, and
//! a webhook receiver that records exactly what the sandbox posted.
#![allow(dead_code)]

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::http::{HeaderMap, Uri};
use axum::routing::post;
use axum::Router;
use chrono::TimeZone;
use serde_json::Value;
use tsunagu_core::FakeClock;
use tsunagu_sandbox::twilio::{NumberConfig, TwilioSandbox};

pub const ACCOUNT: &str = "AC0123456789abcdef0123456789abcdef";
pub const TOKEN: &str = "12345678901234567890123456789012";
pub const CLINIC: &str = "+815012345678";
pub const PATIENT: &str = "+819012345678";

pub struct Hook {
    pub path: String,
    pub headers: HeaderMap,
    pub form: Vec<(String, String)>,
}

pub struct Env {
    pub sb: TwilioSandbox,
    pub base: String,
    pub hook_base: String,
    pub http: reqwest::Client,
    pub clock: FakeClock,
    pub hooks: Arc<Mutex<Vec<Hook>>>,
}

impl Env {
    pub async fn start() -> Env {
        let clock = FakeClock::new(chrono::Utc.with_ymd_and_hms(2025, 4, 1, 9, 0, 0).unwrap());
        let sb = TwilioSandbox::with_clock(Arc::new(clock.clone()));
        let hooks = Arc::new(Mutex::new(Vec::new()));
        let hook_base = spawn_receiver(hooks.clone()).await;
        sb.add_number(NumberConfig {
            account_sid: ACCOUNT.into(),
            auth_token: TOKEN.into(),
            phone_number: CLINIC.into(),
            sms_url: Some(format!("{hook_base}/sms")),
            messaging_service_sid: None,
        });
        let addr = sb.spawn("127.0.0.1:0").await.unwrap();
        Env {
            sb,
            base: format!("http://{addr}"),
            hook_base,
            http: reqwest::Client::new(),
            clock,
            hooks,
        }
    }

    pub fn messages_url(&self) -> String {
        format!("{}/2010-04-01/Accounts/{ACCOUNT}/Messages.json", self.base)
    }

    /// CreateMessage with the account's credentials.
    pub async fn create(&self, params: &[(&str, &str)]) -> (u16, HeaderMap, Value) {
        self.create_as((ACCOUNT, TOKEN), params).await
    }

    pub async fn create_as(
        &self,
        (user, password): (&str, &str),
        params: &[(&str, &str)],
    ) -> (u16, HeaderMap, Value) {
        let req = self
            .http
            .post(self.messages_url())
            .basic_auth(user, Some(password))
            .form(params);
        answer(req.send().await.unwrap()).await
    }

    pub async fn get(&self, path: &str) -> (u16, HeaderMap, Bytes) {
        let resp = self
            .http
            .get(format!("{}{path}", self.base))
            .basic_auth(ACCOUNT, Some(TOKEN))
            .send()
            .await
            .unwrap();
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        (status, headers, resp.bytes().await.unwrap())
    }

    pub fn hooks_len(&self) -> usize {
        self.hooks.lock().unwrap().len()
    }

    pub fn hook_field(&self, n: usize, name: &str) -> Option<String> {
        let hooks = self.hooks.lock().unwrap();
        hooks[n]
            .form
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    }
}

pub async fn answer(resp: reqwest::Response) -> (u16, HeaderMap, Value) {
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = resp.bytes().await.unwrap();
    let json = serde_json::from_slice(&body).unwrap_or(Value::Null);
    (status, headers, json)
}

/// Records every form posted to `/sms` or `/status` and answers an empty TwiML response.
async fn spawn_receiver(hooks: Arc<Mutex<Vec<Hook>>>) -> String {
    let record = move |uri: Uri, headers: HeaderMap, body: Bytes| {
        let hooks = hooks.clone();
        async move {
            let form: Vec<(String, String)> = serde_urlencoded::from_bytes(&body).unwrap();
            hooks.lock().unwrap().push(Hook {
                path: uri.path().to_owned(),
                headers,
                form,
            });
            ([("content-type", "text/xml")], "<Response/>")
        }
    };
    let app = Router::new()
        .route("/sms", post(record.clone()))
        .route("/status", post(record));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}
