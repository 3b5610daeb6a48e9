//! Shared setup for the Messenger sandbox tests: a sandbox on 127.0.0.1:0 with one page, one
//! Instagram account and one person each, and a webhook receiver recording exactly what was posted.
#![allow(dead_code)]

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::http::HeaderMap;
use axum::routing::post;
use axum::Router;
use chrono::TimeZone;
use serde_json::Value;
use tsunagu_core::FakeClock;
use tsunagu_sandbox::messenger::{MessengerSandbox, MessengerUser, PageConfig};

pub const PAGE: &str = "104927532236412";
pub const TOKEN: &str = "EAAsandboxPageToken1";
pub const SECRET: &str = "3f1c9a0e5b7d2468ace13579bdf02468";
pub const PSID: &str = "7051846318273645";
pub const IG: &str = "17841405309211844";
pub const IG_TOKEN: &str = "EAAsandboxInstagramToken";
pub const IGSID: &str = "1254459154682919";
pub const V: &str = "v23.0";

pub struct Hook {
    pub headers: HeaderMap,
    pub body: Bytes,
}

pub struct Env {
    pub sb: MessengerSandbox,
    pub base: String,
    pub http: reqwest::Client,
    pub clock: FakeClock,
    pub hooks: Arc<Mutex<Vec<Hook>>>,
}

impl Env {
    pub async fn start() -> Env {
        let clock = FakeClock::new(chrono::Utc.with_ymd_and_hms(2025, 4, 1, 9, 0, 0).unwrap());
        let sb = MessengerSandbox::with_clock(Arc::new(clock.clone()));
        let hooks = Arc::new(Mutex::new(Vec::new()));
        let hook_url = spawn_receiver(hooks.clone()).await;
        for (id, token, instagram, user) in
            [(PAGE, TOKEN, false, PSID), (IG, IG_TOKEN, true, IGSID)]
        {
            sb.add_page(PageConfig {
                page_id: id.into(),
                name: "さくら内科クリニック".into(),
                access_token: token.into(),
                app_secret: SECRET.into(),
                webhook_url: Some(hook_url.clone()),
                instagram,
            });
            sb.add_user(
                id,
                MessengerUser {
                    psid: user.into(),
                    first_name: "花子".into(),
                    last_name: "山田".into(),
                    profile_pic: Some("https://example.com/p.png".into()),
                },
            );
        }
        let addr = sb.spawn("127.0.0.1:0").await.unwrap();
        Env {
            sb,
            base: format!("http://{addr}"),
            http: reqwest::Client::new(),
            clock,
            hooks,
        }
    }

    /// The person writes, so the 24-hour window is open.
    pub async fn open_window(&self) {
        assert_eq!(
            self.sb
                .user_text(PAGE, PSID, "こんにちは")
                .await
                .unwrap()
                .status,
            200
        );
    }

    pub async fn send(&self, body: &Value) -> (u16, Value) {
        self.send_as(TOKEN, PAGE, body).await
    }

    pub async fn send_as(&self, token: &str, page: &str, body: &Value) -> (u16, Value) {
        let req = self
            .http
            .post(format!("{}/{V}/{page}/messages", self.base))
            .bearer_auth(token)
            .json(body);
        answer(req.send().await.unwrap()).await
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        let req = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(TOKEN);
        answer(req.send().await.unwrap()).await
    }

    pub fn hooks_len(&self) -> usize {
        self.hooks.lock().unwrap().len()
    }

    pub fn hook_json(&self, n: usize) -> Value {
        serde_json::from_slice(&self.hooks.lock().unwrap()[n].body).unwrap()
    }
}

pub async fn answer(resp: reqwest::Response) -> (u16, Value) {
    let status = resp.status().as_u16();
    let body = resp.bytes().await.unwrap();
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

async fn spawn_receiver(hooks: Arc<Mutex<Vec<Hook>>>) -> String {
    let app = Router::new().route(
        "/hook",
        post(move |headers: HeaderMap, body: Bytes| {
            let hooks = hooks.clone();
            async move {
                hooks.lock().unwrap().push(Hook { headers, body });
                "EVENT_RECEIVED"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}/hook")
}

pub fn text_body(text: &str) -> Value {
    serde_json::json!({ "recipient": { "id": PSID }, "messaging_type": "RESPONSE", "message": { "text": text } })
}

/// A fixture from fbmessenger-api-hs with the placeholder recipient replaced and the
/// `messaging_type` today's API requires added.
pub fn fixture(name: &str) -> Value {
    let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/messenger")
        .join(name);
    let raw = std::fs::read(&path).unwrap();
    let mut v: Value = serde_json::from_slice(&raw).unwrap();
    if v.get("recipient").is_some() {
        v["recipient"]["id"] = PSID.into();
        v["messaging_type"] = "RESPONSE".into();
    }
    v
}
