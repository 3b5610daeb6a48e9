//! LINE Platform emulator: the Messaging API (api.line.me and api-data.line.me paths on one port),
//! the webhook driver that signs events like LINE, and a patient simulator page.
//!
//! Fault injection semantics (what a test can rely on):
//! - [`LineSandbox::fail_next`] / [`LineSandbox::fail_next_before_accept`] /
//!   [`LineSandbox::fail_next_with_retry_after`]: the call is answered with
//!   the status and **not executed** (nothing delivered, no retry key recorded, no quota used).
//! - [`LineSandbox::fail_next_after_accept`]: the call **is executed** (delivered, retry key recorded,
//!   quota used) but answered 500, like a response lost on the way back. A retry with the same
//!   `X-Line-Retry-Key` then gets 409 and nothing is delivered twice.
//! - [`LineSandbox::delay_next_after_accept`]: executed, then answered late (client timeouts).
mod chat;
mod http;
mod ids;
mod login;
mod read;
mod richmenu;
mod send;
mod simulator;
mod spec;
mod state;
mod webhook;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::Router;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use tsunagu_core::{SharedClock, SystemClock};

pub use ids::user_id as random_user_id;
pub use login::{sign_jwt, LoginChannelConfig};
pub use richmenu::LinkedMenu;
pub use state::ChatEntry;
pub use webhook::sign;

use state::{Channel, Fault, FaultKind, State};

/// A LINE channel (official account) the sandbox serves.
#[derive(Clone, Debug, Default)]
pub struct ChannelConfig {
    pub channel_secret: String,
    pub access_token: String,
    /// 'U' + 32 hex: the webhook `destination`.
    pub bot_user_id: String,
    /// Where the driver posts webhooks (tsunagu's `/webhooks/line/{channel_id}`).
    pub webhook_url: Option<String>,
    /// Monthly message limit; `None` = unlimited (quota type "none").
    pub quota: Option<i64>,
}

/// A patient who is a friend of a channel.
#[derive(Clone, Debug, Default, Serialize)]
pub struct UserProfile {
    /// 'U' + 32 lowercase hex chars (see [`random_user_id`]).
    pub user_id: String,
    pub display_name: String,
    pub picture_url: Option<String>,
    pub status_message: Option<String>,
    pub language: Option<String>,
}

/// One accepted send request, as received.
#[derive(Clone, Debug, Serialize)]
pub struct Received {
    /// e.g. `/v2/bot/message/push`.
    pub endpoint: String,
    pub access_token: String,
    pub retry_key: Option<String>,
    pub body: Value,
    pub at: DateTime<Utc>,
    /// The `X-Line-Request-Id` the sandbox answered with.
    pub request_id: String,
}

#[derive(Clone)]
pub struct LineSandbox {
    inner: Arc<Inner>,
}

struct Inner {
    state: Mutex<State>,
    clock: SharedClock,
    http: reqwest::Client,
}

impl Default for LineSandbox {
    fn default() -> Self {
        Self::new()
    }
}

impl LineSandbox {
    pub fn new() -> Self {
        Self::with_clock(Arc::new(SystemClock))
    }

    /// A sandbox on the test's clock: reply-token expiry, retry-key retention and rate windows
    /// follow it.
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

    /// The Messaging API: api.line.me and api-data.line.me paths, on one router.
    pub fn router(&self) -> Router {
        Router::new()
            .merge(send::routes())
            .merge(read::routes())
            .merge(chat::routes())
            .merge(richmenu::routes())
            .merge(login::routes())
            .fallback(http::not_found)
            .layer(axum::middleware::from_fn_with_state(
                self.clone(),
                http::request_id,
            ))
            .with_state(self.clone())
    }

    /// Binds `addr` (port 0 works), serves the API and the simulator in a background task and
    /// returns the bound address.
    pub async fn spawn(&self, addr: &str) -> anyhow::Result<SocketAddr> {
        let (listener, bound) = crate::serve::bind(addr, "LINE").await?;
        let app = self.simulator_router().merge(self.router());
        crate::serve::run(listener, app, "LINE");
        Ok(bound)
    }

    pub fn add_channel(&self, config: ChannelConfig) {
        let channel = Channel {
            config,
            users: Vec::new(),
            blocked: Default::default(),
            consumption: 0,
            rich_menus: Default::default(),
        };
        self.lock()
            .channels
            .insert(channel.config.access_token.clone(), channel);
    }

    /// Points the channel's webhook at `url` (tsunagu's port is known only once it runs).
    pub fn set_webhook_url(&self, access_token_or_channel: &str, url: &str) {
        self.with_channel(access_token_or_channel, |c| {
            c.config.webhook_url = Some(url.to_owned())
        });
    }

    pub fn set_quota(&self, access_token_or_channel: &str, quota: Option<i64>) {
        self.with_channel(access_token_or_channel, |c| c.config.quota = quota);
    }

    /// Makes `profile` a friend of the channel. A malformed user id is kept but logged: LINE
    /// would refuse sends to it, and so does the sandbox.
    pub fn add_user(&self, access_token: &str, profile: UserProfile) {
        if !ids::is_line_id(&profile.user_id, &['U']) {
            tracing::warn!(user_id = %profile.user_id, "sandbox user id is not 'U' + 32 hex chars");
        }
        self.with_channel(access_token, |c| {
            c.users.retain(|u| u.user_id != profile.user_id);
            c.users.push(profile);
        });
    }

    /// Friends of the channel (blocked ones included).
    pub fn users(&self, access_token_or_channel: &str) -> Vec<UserProfile> {
        let st = self.lock();
        st.resolve(access_token_or_channel)
            .and_then(|t| st.channels.get(&t))
            .map(|c| c.users.clone())
            .unwrap_or_default()
    }

    /// Every accepted send request, in order.
    pub fn received(&self) -> Vec<Received> {
        self.lock().received.clone()
    }

    /// The loading indicators shown to `user_id` (seconds each), in order.
    pub fn loading_shown(&self, user_id: &str) -> Vec<u64> {
        self.lock()
            .loading
            .iter()
            .filter(|(u, _)| u == user_id)
            .map(|(_, s)| *s)
            .collect()
    }

    /// How many API calls reached a path ending with `path_suffix`, refused ones included.
    pub fn calls_to(&self, path_suffix: &str) -> usize {
        self.lock()
            .calls
            .iter()
            .filter(|(p, _)| p.ends_with(path_suffix))
            .count()
    }

    /// Message objects delivered to this user (or group/room) by reply, push, multicast,
    /// narrowcast or broadcast, in order.
    pub fn delivered_to(&self, user_id: &str) -> Vec<Value> {
        self.chat(user_id)
            .into_iter()
            .filter(|e| e.from == "bot")
            .map(|e| e.message)
            .collect()
    }

    /// The whole chat with this user/group/room, both directions.
    pub fn chat(&self, thread_id: &str) -> Vec<ChatEntry> {
        self.lock()
            .transcripts
            .get(thread_id)
            .cloned()
            .unwrap_or_default()
    }

    /// The ids of the user's messages in this chat the bot marked read, oldest first.
    pub fn read_messages(&self, thread_id: &str) -> Vec<String> {
        self.chat(thread_id)
            .into_iter()
            .filter(|e| e.from == "user" && e.read)
            .filter_map(|e| e.message["id"].as_str().map(str::to_owned))
            .collect()
    }

    /// Messages counted against the channel's monthly quota so far.
    pub fn consumption(&self, access_token_or_channel: &str) -> i64 {
        let st = self.lock();
        st.resolve(access_token_or_channel)
            .and_then(|t| st.channels.get(&t))
            .map_or(0, |c| c.consumption)
    }

    /// The next `times` calls whose path ends with `path_suffix` answer `status` and are NOT
    /// executed (see the module doc).
    pub fn fail_next(&self, path_suffix: &str, status: u16, times: u32) {
        self.add_fault(path_suffix, FaultKind::Before(status, None), times);
    }

    /// As [`LineSandbox::fail_next`], with `Retry-After: {retry_after_secs}` (LINE documents
    /// none, but a client must honour one when an edge in between sends it).
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

    /// 500 without executing: nothing delivered, retry key not recorded.
    pub fn fail_next_before_accept(&self, path_suffix: &str, times: u32) {
        self.fail_next(path_suffix, 500, times);
    }

    /// Executed (delivered, retry key recorded) but answered 500: a lost response.
    pub fn fail_next_after_accept(&self, path_suffix: &str, times: u32) {
        self.add_fault(path_suffix, FaultKind::After(500), times);
    }

    /// Executed, then answered only after `delay`.
    pub fn delay_next_after_accept(&self, path_suffix: &str, delay: Duration, times: u32) {
        self.add_fault(path_suffix, FaultKind::DelayAfter(delay), times);
    }

    /// At most `per_second` requests per channel per second to endpoints ending with
    /// `path_suffix`; beyond it, 429 as LINE. No limit unless set.
    pub fn set_rate_limit(&self, path_suffix: &str, per_second: u32) {
        let mut st = self.lock();
        st.rate_limits.retain(|(s, _)| s != path_suffix);
        st.rate_limits.push((path_suffix.to_owned(), per_second));
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

    fn with_channel(&self, key: &str, f: impl FnOnce(&mut Channel)) {
        let mut st = self.lock();
        match st.resolve(key) {
            Some(token) => {
                if let Some(c) = st.channels.get_mut(&token) {
                    f(c);
                }
            }
            None => tracing::warn!("no sandbox LINE channel for the given token or bot id"),
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
