//! Messenger Platform emulator (Facebook Pages and Instagram accounts): the Graph API Send API and
//! User Profile API under any `vNN.N`, a webhook driver that signs like Meta, and a chat simulator.
//!
//! Fault injection semantics (what a test can rely on):
//! - Before accept ([`MessengerSandbox::fail_next_before_accept`],
//!   [`MessengerSandbox::fail_next_with_retry_after`]): answered with the status and a Graph error
//!   body (500/503: code 2, `is_transient`; 429: code 613; other: code 100), **not executed**.
//! - After accept ([`MessengerSandbox::fail_next_after_accept`]): **executed** (delivered, in
//!   `received()`), then answered 500 with a non-Graph body, like a response lost on the way back.
//! - Delayed ([`MessengerSandbox::delay_next_after_accept`]): executed, then answered late.
//!
//! Not emulated: form-encoded sends with nested fields other than JSON strings, batch requests,
//! `recipient.user_ref`/`comment_id`, persistent menus and other profile settings.
mod http;
mod read;
mod send;
mod simulator;
mod state;
mod validate;
mod webhook;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::Router;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use tsunagu_core::{SharedClock, SystemClock};

pub use state::ChatEntry;
pub use webhook::{meta_json, sign_sha1, sign_sha256, Posted};

use state::{Fault, FaultKind, Page, State};

/// A Facebook Page (or an Instagram professional account when `instagram`).
#[derive(Clone, Debug, Default)]
pub struct PageConfig {
    /// The Page id (or Instagram account id): `entry[].id` and the `/{page_id}/messages` path.
    pub page_id: String,
    pub name: String,
    pub access_token: String,
    /// Signs webhooks (`X-Hub-Signature-256` and the legacy `X-Hub-Signature`).
    pub app_secret: String,
    /// Where the driver posts webhooks (tsunagu's Messenger endpoint).
    pub webhook_url: Option<String>,
    /// Webhooks use `"object":"instagram"`.
    pub instagram: bool,
}

/// A person who can chat with the page.
#[derive(Clone, Debug, Default, Serialize)]
pub struct MessengerUser {
    /// Page-scoped id (PSID), or IGSID for Instagram: digits.
    pub psid: String,
    pub first_name: String,
    pub last_name: String,
    pub profile_pic: Option<String>,
}

/// How sends beyond the configured rate are answered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RateLimitAnswer {
    /// HTTP 400 with code 613 ("Calls to this api have exceeded the rate limit.").
    Code613,
    /// HTTP 429 with code 4 ("Application request limit reached").
    Http429,
}

/// One accepted Send API request, as received.
#[derive(Clone, Debug, Serialize)]
pub struct Received {
    pub page_id: String,
    pub access_token: String,
    pub body: Value,
    pub at: DateTime<Utc>,
    /// The `message_id` the sandbox answered with.
    pub message_id: String,
}

#[derive(Clone)]
pub struct MessengerSandbox {
    inner: Arc<Inner>,
}

struct Inner {
    state: Mutex<State>,
    clock: SharedClock,
    http: reqwest::Client,
}

impl Default for MessengerSandbox {
    fn default() -> Self {
        Self::new()
    }
}

impl MessengerSandbox {
    pub fn new() -> Self {
        Self::with_clock(Arc::new(SystemClock))
    }

    /// A sandbox on the test's clock: conversation windows and rate windows follow it.
    pub fn with_clock(clock: SharedClock) -> Self {
        let http = crate::serve::http_client();
        Self {
            inner: Arc::new(Inner {
                state: Mutex::new(State::default()),
                clock,
                http,
            }),
        }
    }

    /// The Graph API routes, the media store and the simulator, on one router that may be nested
    /// under a prefix (then call [`set_public_url`](Self::set_public_url) with that prefix).
    pub fn router(&self) -> Router {
        Router::new()
            .merge(send::routes())
            .merge(read::routes())
            .merge(simulator::routes())
            .fallback(http::unknown_path)
            .layer(axum::middleware::from_fn_with_state(
                self.clone(),
                http::log_call,
            ))
            .with_state(self.clone())
    }

    /// Binds `addr` (port 0 works), serves [`router`](Self::router) at the root in a background
    /// task and returns the bound address. The public URL defaults to `http://{addr}`.
    pub async fn spawn(&self, addr: &str) -> anyhow::Result<SocketAddr> {
        let (listener, bound) = crate::serve::bind(addr, "Messenger").await?;
        {
            let mut st = self.lock();
            if st.public_url.is_none() {
                st.public_url = Some(format!("http://{bound}"));
            }
        }
        let app = self.router();
        crate::serve::run(listener, app, "Messenger");
        Ok(bound)
    }

    /// The absolute URL the router is reachable at, e.g. `http://127.0.0.1:8081/messenger`:
    /// attachment URLs in webhooks are built from it.
    pub fn set_public_url(&self, url: &str) {
        self.lock().public_url = Some(url.trim_end_matches('/').to_owned());
    }

    pub fn add_page(&self, config: PageConfig) {
        let page = Page {
            config,
            users: Vec::new(),
            blocked: Default::default(),
        };
        self.lock().pages.insert(page.config.page_id.clone(), page);
    }

    /// Points the page's webhook at `url` (tsunagu's port is known only once it runs).
    pub fn set_webhook_url(&self, page_id: &str, url: &str) {
        if let Some(p) = self.lock().pages.get_mut(page_id) {
            p.config.webhook_url = Some(url.to_owned());
        }
    }

    /// Lets `user` chat with the page (replaces one with the same PSID).
    pub fn add_user(&self, page_id: &str, user: MessengerUser) {
        match self.lock().pages.get_mut(page_id) {
            Some(p) => {
                p.users.retain(|u| u.psid != user.psid);
                p.users.push(user);
            }
            None => tracing::warn!(page_id, "no sandbox Messenger page"),
        }
    }

    pub fn users(&self, page_id: &str) -> Vec<MessengerUser> {
        self.lock()
            .pages
            .get(page_id)
            .map(|p| p.users.clone())
            .unwrap_or_default()
    }

    /// The person blocks the page: sends to them answer code 551.
    pub fn block_user(&self, page_id: &str, psid: &str) {
        if let Some(p) = self.lock().pages.get_mut(page_id) {
            p.blocked.insert(psid.to_owned());
        }
    }

    /// After each accepted send, post a delivery and then a read webhook (for the demo).
    pub fn set_auto_receipts(&self, on: bool) {
        self.lock().auto_receipts = on;
    }

    /// At most `per_second` sends per page per second; beyond it, `answer`. No limit unless set.
    pub fn set_rate_limit(&self, per_second: u32, answer: RateLimitAnswer) {
        self.lock().rate_limit = Some((per_second, answer));
    }

    /// Every accepted send, in order.
    pub fn received(&self) -> Vec<Received> {
        self.lock().received.clone()
    }

    /// How many API calls reached a path ending with `path_suffix`, refused ones included.
    pub fn calls_to(&self, path_suffix: &str) -> usize {
        self.lock()
            .calls
            .iter()
            .filter(|(p, _)| p.ends_with(path_suffix))
            .count()
    }

    /// The conversation between the page and this person, both directions.
    pub fn chat(&self, page_id: &str, psid: &str) -> Vec<ChatEntry> {
        self.lock()
            .chats
            .get(&(page_id.to_owned(), psid.to_owned()))
            .cloned()
            .unwrap_or_default()
    }

    /// The `message` objects the page sent this person, in order.
    pub fn delivered_to(&self, page_id: &str, psid: &str) -> Vec<Value> {
        self.chat(page_id, psid)
            .into_iter()
            .filter(|e| e.from == "page")
            .map(|e| e.message)
            .collect()
    }

    /// The next `times` calls whose path ends with `path_suffix` answer `status`, NOT executed.
    pub fn fail_next_before_accept(&self, path_suffix: &str, status: u16, times: u32) {
        self.add_fault(path_suffix, FaultKind::Before(status, None), times);
    }

    /// As [`MessengerSandbox::fail_next_before_accept`], with `Retry-After: {retry_after_secs}`
    /// (Meta documents none, but a client must honour one when an edge in between sends it).
    pub fn fail_next_with_retry_after(
        &self,
        path_suffix: &str,
        status: u16,
        retry_after_secs: u64,
        times: u32,
    ) {
        let kind = FaultKind::Before(status, Some(retry_after_secs));
        self.add_fault(path_suffix, kind, times);
    }

    /// Executed (delivered) but answered 500: a lost response.
    pub fn fail_next_after_accept(&self, path_suffix: &str, times: u32) {
        self.add_fault(path_suffix, FaultKind::After, times);
    }

    /// Executed, then answered only after `delay`.
    pub fn delay_next_after_accept(&self, path_suffix: &str, delay: Duration, times: u32) {
        self.add_fault(path_suffix, FaultKind::DelayAfter(delay), times);
    }

    fn add_fault(&self, path_suffix: &str, kind: FaultKind, times: u32) {
        if times > 0 {
            self.lock().faults.push(Fault {
                suffix: path_suffix.to_owned(),
                kind,
                remaining: times,
            });
        }
    }

    pub(crate) fn now(&self) -> DateTime<Utc> {
        self.inner.clock.now()
    }

    /// The state lock; a panic in another test thread must not wedge the sandbox.
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.inner.state.lock().unwrap_or_else(|p| p.into_inner())
    }
}
