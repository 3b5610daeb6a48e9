//! WhatsApp Cloud API emulator: the Graph API paths tsunagu calls (send, media, templates), a
//! webhook driver that signs like Meta, and a patient simulator page.
//!
//! Every URL it hands out (media downloads) is built from [`WhatsAppSandbox::set_public_url`],
//! because the router may be nested under a prefix (the demo mounts it at `/whatsapp`).
//!
//! Fault injection semantics:
//! - [`WhatsAppSandbox::fail_next_before_accept`] / [`WhatsAppSandbox::fail_next_with_code`] /
//!   [`WhatsAppSandbox::fail_next_with_retry_after`]: answered with Meta's error body and **not
//!   executed** (nothing delivered or logged).
//! - [`WhatsAppSandbox::fail_next_after_accept`]: **executed** (delivered, in `received()`), but
//!   answered 500 with code 131000, like an answer lost on the way back.
//! - [`WhatsAppSandbox::delay_next_after_accept`]: executed, then answered late.
mod http;
mod media;
mod patient;
mod send;
mod simulator;
pub mod spec;
mod state;
mod templates;
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
pub use webhook::{escape_non_ascii, sign, Posted};

use state::{Fault, FaultKind, Media, State};

/// A business phone number the sandbox serves.
#[derive(Clone, Debug, Default)]
pub struct PhoneNumberConfig {
    pub phone_number_id: String,
    /// Digits as Meta shows them in webhook metadata, e.g. "15550001234".
    pub display_phone_number: String,
    pub waba_id: String,
    pub access_token: String,
    /// Signs webhooks (`X-Hub-Signature-256`).
    pub app_secret: String,
    /// tsunagu's `/webhooks/whatsapp/{channel}`.
    pub webhook_url: Option<String>,
}

/// A WhatsApp user (patient).
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct WhatsAppUser {
    /// Digits only, country code first, e.g. "819012345678".
    pub wa_id: String,
    pub name: String,
}

/// One accepted send (or mark-as-read) request, as received.
#[derive(Clone, Debug, Serialize)]
pub struct Received {
    pub phone_number_id: String,
    pub access_token: String,
    pub body: Value,
    pub at: DateTime<Utc>,
    /// The wamid answered (none for mark-as-read).
    pub wamid: Option<String>,
}

/// A message template of a WhatsApp Business Account.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Template {
    pub id: String,
    pub waba_id: String,
    pub name: String,
    pub language: String,
    /// MARKETING | UTILITY | AUTHENTICATION.
    pub category: String,
    /// APPROVED | PENDING | REJECTED | PAUSED | DISABLED.
    pub status: String,
    /// The components as created (BODY text with {{1}}… placeholders and its example).
    pub components: Value,
    pub rejected_reason: Option<String>,
}

impl Template {
    /// The BODY component's text.
    pub fn body_text(&self) -> String {
        templates::body_text(&self.components)
    }
}

#[derive(Clone)]
pub struct WhatsAppSandbox {
    inner: Arc<Inner>,
}

struct Inner {
    state: Mutex<State>,
    clock: SharedClock,
    http: reqwest::Client,
}

impl Default for WhatsAppSandbox {
    fn default() -> Self {
        Self::new()
    }
}

impl WhatsAppSandbox {
    pub fn new() -> Self {
        Self::with_clock(Arc::new(SystemClock))
    }

    /// A sandbox on the test's clock: the 24-hour window, rate limits and media URL expiry follow it.
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

    /// The Graph API paths and the simulator at `/simulator`, relative to wherever it is mounted.
    pub fn router(&self) -> Router {
        Router::new()
            .merge(send::routes())
            .merge(media::routes())
            .merge(templates::routes())
            .fallback(http::not_found)
            .layer(axum::middleware::from_fn_with_state(
                self.clone(),
                http::log_calls,
            ))
            .with_state(self.clone())
            .merge(self.simulator_router())
    }

    /// Binds `addr` (port 0 works), serves [`Self::router`] at the root and returns the bound
    /// address. Sets the public URL to `http://{addr}` unless one was set.
    pub async fn spawn(&self, addr: &str) -> anyhow::Result<SocketAddr> {
        let (listener, bound) = crate::serve::bind(addr, "WhatsApp").await?;
        {
            let mut st = self.lock();
            if st.public_url.is_none() {
                st.public_url = Some(format!("http://{bound}"));
            }
        }
        let app = self.router();
        crate::serve::run(listener, app, "WhatsApp");
        Ok(bound)
    }

    /// Where the router is reachable, prefix included (e.g. `http://127.0.0.1:8081/whatsapp`).
    pub fn set_public_url(&self, url: &str) {
        self.lock().public_url = Some(url.trim_end_matches('/').to_owned());
    }

    pub fn add_phone_number(&self, config: PhoneNumberConfig) {
        self.lock()
            .numbers
            .insert(config.phone_number_id.clone(), config);
    }

    /// Points the number's webhook at `url` (tsunagu's port is known only once it runs).
    pub fn set_webhook_url(&self, phone_number_id: &str, url: &str) {
        if let Some(n) = self.lock().numbers.get_mut(phone_number_id) {
            n.webhook_url = Some(url.to_owned());
        }
    }

    /// Adds (or renames) a WhatsApp user.
    pub fn add_user(&self, wa_id: &str, name: &str) {
        let mut st = self.lock();
        st.users.retain(|u| u.wa_id != wa_id);
        st.users.push(WhatsAppUser {
            wa_id: wa_id.to_owned(),
            name: name.to_owned(),
        });
    }

    pub fn users(&self) -> Vec<WhatsAppUser> {
        self.lock().users.clone()
    }

    /// Every accepted request, in order.
    pub fn received(&self) -> Vec<Received> {
        self.lock().received.clone()
    }

    /// How many API calls reached a path ending with `path_suffix`, refused ones included.
    pub fn calls_to(&self, path_suffix: &str) -> usize {
        let st = self.lock();
        st.calls
            .iter()
            .filter(|(p, _)| p.ends_with(path_suffix))
            .count()
    }

    /// The chat between the number and the user, both directions.
    pub fn chat(&self, phone_number_id: &str, wa_id: &str) -> Vec<ChatEntry> {
        let key = (phone_number_id.to_owned(), wa_id.to_owned());
        self.lock().chats.get(&key).cloned().unwrap_or_default()
    }

    /// Stores media (as if a user had sent it) and returns its media id.
    pub fn add_media(&self, bytes: impl Into<bytes::Bytes>, mime_type: &str) -> String {
        let mut st = self.lock();
        let id = http::numeric_id(st.next());
        let bytes: bytes::Bytes = bytes.into();
        let media = Media {
            sha256: media::hex_sha256(&bytes),
            bytes,
            mime_type: mime_type.to_owned(),
            phone_number_id: None,
            url_hash: None,
        };
        st.media.insert(id.clone(), media);
        id
    }

    /// Replaces a media item's bytes, keeping the checksum already handed out: a corrupted download.
    pub fn replace_media(&self, media_id: &str, bytes: impl Into<bytes::Bytes>) {
        if let Some(m) = self.lock().media.get_mut(media_id) {
            m.bytes = bytes.into();
        }
    }

    /// Opens the 24-hour window as if the user had just written (without a webhook).
    pub fn open_window(&self, phone_number_id: &str, wa_id: &str) {
        let now = self.now();
        let key = (phone_number_id.to_owned(), wa_id.to_owned());
        self.lock().last_inbound.insert(key, now);
    }

    /// Sends above `per_second` per number in one second get 130429 (default 80).
    pub fn set_throughput_limit(&self, per_second: u32) {
        self.lock().throughput_per_second = per_second;
    }

    /// Sends to one user: `burst` at once, then one more every `every` (131056 beyond).
    pub fn set_pair_rate_limit(&self, burst: u32, every: Duration) {
        let mut st = self.lock();
        st.pair_burst = burst;
        st.pair_every = every;
        st.pair.clear();
    }

    /// New templates are APPROVED at once instead of PENDING (for the demo).
    pub fn set_auto_approve(&self, on: bool) {
        self.lock().auto_approve = on;
    }

    /// After each accepted send, post sent → delivered → read statuses `step` apart (demo).
    pub fn set_auto_status(&self, step: Option<Duration>) {
        self.lock().auto_status = step;
    }

    /// The next `times` calls whose path ends with `path_suffix` answer `status` (with Meta's
    /// body for it: 429 → code 4, 5xx → code 2, transient) and are NOT executed.
    pub fn fail_next_before_accept(&self, path_suffix: &str, status: u16, times: u32) {
        self.fail_next_with_code(path_suffix, status, injected_code(status), times);
    }

    /// Like [`Self::fail_next_before_accept`] with Meta's error `code` (e.g. 131026, 80007).
    pub fn fail_next_with_code(&self, path_suffix: &str, status: u16, code: i64, times: u32) {
        let kind = FaultKind::Before {
            status,
            code,
            retry_after: None,
        };
        self.add_fault(path_suffix, kind, times);
    }

    /// As [`Self::fail_next_before_accept`], with `Retry-After: {retry_after_secs}` (Meta
    /// documents none, but a client must honour one when an edge in between sends it).
    pub fn fail_next_with_retry_after(
        &self,
        path_suffix: &str,
        status: u16,
        retry_after_secs: u64,
        times: u32,
    ) {
        let kind = FaultKind::Before {
            status,
            code: injected_code(status),
            retry_after: Some(retry_after_secs),
        };
        self.add_fault(path_suffix, kind, times);
    }

    /// Executed (delivered, logged) but answered 500 "(#131000) Something went wrong".
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

/// Meta's code for an injected status: 429 → 4 (request limit), 5xx → 2 (transient), else 100.
fn injected_code(status: u16) -> i64 {
    match status {
        429 => 4,
        500..=599 => 2,
        _ => 100,
    }
}
