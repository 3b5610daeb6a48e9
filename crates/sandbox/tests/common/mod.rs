//! Shared test setup: a sandbox on 127.0.0.1:0 with one channel and one patient, and a webhook
//! receiver that records exactly what the sandbox posted.
#![allow(dead_code)]

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::http::HeaderMap;
use axum::routing::post;
use axum::Router;
use chrono::TimeZone;
use serde_json::Value;
use tsunagu_core::FakeClock;
use tsunagu_sandbox::line::{ChannelConfig, LineSandbox, UserProfile};

pub const SECRET: &str = "8c570fa6dd201bb328f1c1eac23a96d8";
pub const TOKEN: &str = "sandbox-access-token-1";
pub const BOT: &str = "Uc1c00000000000000000000000000001";
pub const USER: &str = "U4af4980629abcdef0123456789abcdef";

pub struct Hook {
    pub headers: HeaderMap,
    pub body: Bytes,
}

pub struct Env {
    pub sb: LineSandbox,
    pub base: String,
    pub http: reqwest::Client,
    pub clock: FakeClock,
    pub hooks: Arc<Mutex<Vec<Hook>>>,
}

impl Env {
    pub async fn start() -> Env {
        let clock = FakeClock::new(chrono::Utc.with_ymd_and_hms(2025, 4, 1, 9, 0, 0).unwrap());
        let sb = LineSandbox::with_clock(Arc::new(clock.clone()));
        let hooks = Arc::new(Mutex::new(Vec::new()));
        let hook_url = spawn_receiver(hooks.clone()).await;
        sb.add_channel(ChannelConfig {
            channel_secret: SECRET.into(),
            access_token: TOKEN.into(),
            bot_user_id: BOT.into(),
            webhook_url: Some(hook_url),
            quota: None,
        });
        sb.add_user(
            TOKEN,
            UserProfile {
                user_id: USER.into(),
                display_name: "山田 花子".into(),
                picture_url: Some("https://example.com/p.png".into()),
                status_message: None,
                language: Some("ja".into()),
            },
        );
        let addr = sb.spawn("127.0.0.1:0").await.unwrap();
        Env {
            sb,
            base: format!("http://{addr}"),
            http: reqwest::Client::new(),
            clock,
            hooks,
        }
    }

    pub async fn post(
        &self,
        path: &str,
        body: &Value,
        retry_key: Option<&str>,
    ) -> (u16, HeaderMap, Value) {
        let mut req = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(TOKEN)
            .json(body);
        if let Some(k) = retry_key {
            req = req.header("X-Line-Retry-Key", k);
        }
        answer(req.send().await.unwrap()).await
    }

    pub async fn get(&self, path: &str) -> (u16, HeaderMap, Value) {
        let req = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(TOKEN);
        answer(req.send().await.unwrap()).await
    }

    pub fn hooks_len(&self) -> usize {
        self.hooks.lock().unwrap().len()
    }

    /// The JSON of the n-th webhook delivery.
    pub fn hook_json(&self, n: usize) -> Value {
        serde_json::from_slice(&self.hooks.lock().unwrap()[n].body).unwrap()
    }
}

async fn answer(resp: reqwest::Response) -> (u16, HeaderMap, Value) {
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = resp.bytes().await.unwrap();
    let json = serde_json::from_slice(&body).unwrap_or(Value::Null);
    (status, headers, json)
}

async fn spawn_receiver(hooks: Arc<Mutex<Vec<Hook>>>) -> String {
    let app = Router::new().route(
        "/hook",
        post(move |headers: HeaderMap, body: Bytes| {
            let hooks = hooks.clone();
            async move {
                hooks.lock().unwrap().push(Hook { headers, body });
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}/hook")
}

pub fn text(t: &str) -> Value {
    serde_json::json!({ "type": "text", "text": t })
}

pub fn push_body(messages: Vec<Value>) -> Value {
    serde_json::json!({ "to": USER, "messages": messages })
}

pub fn new_key() -> String {
    uuid::Uuid::new_v4().to_string()
}
