//! Shared setup for the WhatsApp sandbox tests: a sandbox on 127.0.0.1:0 with one clinic number,
//! one patient, and a webhook receiver that records exactly what the sandbox posted.
#![allow(dead_code)]

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::Query;
use axum::http::HeaderMap;
use axum::routing::post;
use axum::Router;
use chrono::TimeZone;
use serde_json::Value;
use tsunagu_core::FakeClock;
use tsunagu_sandbox::whatsapp::{PhoneNumberConfig, WhatsAppSandbox};

pub const PHONE: &str = "106540352242922";
pub const DISPLAY: &str = "15550783881";
pub const WABA: &str = "102290129340398";
pub const TOKEN: &str = "EAAsandboxtoken1";
pub const SECRET: &str = "1222e786b144d0e85b9f365372d93676";
pub const VERIFY: &str = "verify-me";
pub const USER: &str = "819012345678";
pub const NAME: &str = "山田 花子";
pub const V: &str = "v23.0";

pub struct Hook {
    pub headers: HeaderMap,
    pub body: Bytes,
}

pub struct Env {
    pub sb: WhatsAppSandbox,
    pub base: String,
    pub hook_url: String,
    pub http: reqwest::Client,
    pub clock: FakeClock,
    pub hooks: Arc<Mutex<Vec<Hook>>>,
}

impl Env {
    pub async fn start() -> Env {
        let clock = FakeClock::new(chrono::Utc.with_ymd_and_hms(2025, 4, 1, 9, 0, 0).unwrap());
        let sb = WhatsAppSandbox::with_clock(Arc::new(clock.clone()));
        let hooks = Arc::new(Mutex::new(Vec::new()));
        let hook_url = spawn_receiver(hooks.clone()).await;
        sb.add_phone_number(PhoneNumberConfig {
            phone_number_id: PHONE.into(),
            display_phone_number: DISPLAY.into(),
            waba_id: WABA.into(),
            access_token: TOKEN.into(),
            app_secret: SECRET.into(),
            webhook_url: Some(hook_url.clone()),
        });
        sb.add_user(USER, NAME);
        let addr = sb.spawn("127.0.0.1:0").await.unwrap();
        Env {
            sb,
            base: format!("http://{addr}"),
            hook_url,
            http: reqwest::Client::new(),
            clock,
            hooks,
        }
    }

    /// POST a send body to this number's /messages with the right token.
    pub async fn send(&self, body: &Value) -> (u16, Value) {
        self.send_as(TOKEN, body).await
    }

    pub async fn send_as(&self, token: &str, body: &Value) -> (u16, Value) {
        let url = format!("{}/{V}/{PHONE}/messages", self.base);
        let resp = self
            .http
            .post(url)
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .unwrap();
        answer(resp).await
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        let resp = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(TOKEN)
            .send()
            .await
            .unwrap();
        answer(resp).await
    }

    pub fn hooks_len(&self) -> usize {
        self.hooks.lock().unwrap().len()
    }

    pub fn hook(&self, n: usize) -> (HeaderMap, Bytes) {
        let h = &self.hooks.lock().unwrap()[n];
        (h.headers.clone(), h.body.clone())
    }

    pub fn hook_json(&self, n: usize) -> Value {
        serde_json::from_slice(&self.hook(n).1).unwrap()
    }
}

pub async fn answer(resp: reqwest::Response) -> (u16, Value) {
    let status = resp.status().as_u16();
    let body = resp.bytes().await.unwrap();
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

/// Records POSTs; answers the GET handshake like a correct endpoint (token `VERIFY`).
async fn spawn_receiver(hooks: Arc<Mutex<Vec<Hook>>>) -> String {
    let app = Router::new().route(
        "/hook",
        post(move |headers: HeaderMap, body: Bytes| {
            let hooks = hooks.clone();
            async move {
                hooks.lock().unwrap().push(Hook { headers, body });
                "ok"
            }
        })
        .get(
            |Query(q): Query<std::collections::HashMap<String, String>>| async move {
                if q.get("hub.verify_token").map(String::as_str) == Some(VERIFY) {
                    (
                        axum::http::StatusCode::OK,
                        q.get("hub.challenge").cloned().unwrap_or_default(),
                    )
                } else {
                    (axum::http::StatusCode::FORBIDDEN, String::new())
                }
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}/hook")
}

pub fn text(to: &str, body: &str) -> Value {
    serde_json::json!({ "messaging_product": "whatsapp", "recipient_type": "individual",
                        "to": to, "type": "text", "text": { "body": body } })
}
