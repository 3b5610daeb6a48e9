//! Twilio Programmable Messaging emulator: the Messages REST API (validated against Twilio's
//! OpenAPI), the webhook driver that signs like Twilio, Advanced Opt-Out, per-number queues, and
//! a patient simulator page. The router may be nested (e.g. under `/twilio`); media URLs in
//! webhooks are built from [`TwilioSandbox::set_public_url`].
//!
//! Fault injection semantics (what a test can rely on):
//! - [`TwilioSandbox::fail_next_before_accept`] — answered with the status and **not executed**.
//! - [`TwilioSandbox::fail_next_after_accept`] — **executed** (the message exists and is delivered)
//!   but answered 500, like an answer lost on the way back. Twilio has no idempotency key, so a
//!   repeat sends a second message: the adapter must treat this as in doubt.
//! - [`TwilioSandbox::delay_next_after_accept`] — executed, then answered late (client timeouts).
mod http;
mod ids;
mod read;
mod send;
mod simulator;
pub mod spec;
mod state;
mod webhook;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::routing::{get, post};
use axum::Router;
use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use tsunagu_core::{SharedClock, SystemClock};

pub use ids::num_segments;
pub use state::SmsMessage;
pub use webhook::{sign, Delivery};

use state::{Fault, FaultKind, State};

/// A phone number the sandbox account owns.
#[derive(Clone, Debug, Default)]
pub struct NumberConfig {
    /// `AC` + 32 hex.
    pub account_sid: String,
    pub auth_token: String,
    /// E.164, e.g. `+815012345678`.
    pub phone_number: String,
    /// The number's "A message comes in" webhook (tsunagu's `/webhooks/sms/…`), exactly as
    /// configured: the signature is computed over this string.
    pub sms_url: Option<String>,
    /// `MG` + 32 hex when the number is in a Messaging Service's sender pool.
    pub messaging_service_sid: Option<String>,
}

#[derive(Clone)]
pub struct TwilioSandbox {
    inner: Arc<Inner>,
}

struct Inner {
    state: Mutex<State>,
    clock: SharedClock,
    http: reqwest::Client,
}

impl Default for TwilioSandbox {
    fn default() -> Self {
        Self::new()
    }
}

impl TwilioSandbox {
    pub fn new() -> Self {
        Self::with_clock(Arc::new(SystemClock))
    }

    /// A sandbox on the test's clock: dates and the per-number send queues follow it.
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

    /// The REST API (`/2010-04-01/…`) and the simulator (`/simulator`), on one router.
    pub fn router(&self) -> Router {
        let messages = "/2010-04-01/Accounts/{account}/Messages";
        Router::new()
            .route(&format!("{messages}.json"), post(send::create))
            .route(&format!("{messages}/{{file}}"), get(read::message))
            .route(
                &format!("{messages}/{{message}}/Media/{{file}}"),
                get(read::media),
            )
            .fallback(http::not_found)
            .layer(axum::middleware::from_fn_with_state(
                self.clone(),
                http::log_calls,
            ))
            .with_state(self.clone())
            .merge(simulator::routes(self))
    }

    /// Binds `addr` (port 0 works), serves [`TwilioSandbox::router`] at the root in a background
    /// task and returns the bound address; the public URL defaults to `http://{addr}`.
    pub async fn spawn(&self, addr: &str) -> anyhow::Result<SocketAddr> {
        let (listener, bound) = crate::serve::bind(addr, "Twilio").await?;
        self.lock()
            .public_url
            .get_or_insert_with(|| format!("http://{bound}"));
        let app = self.router();
        crate::serve::run(listener, app, "Twilio");
        Ok(bound)
    }

    /// Where the router is reachable from tsunagu, e.g. `http://127.0.0.1:8081/twilio`: media
    /// URLs in webhooks start with it.
    pub fn set_public_url(&self, url: &str) {
        self.lock().public_url = Some(url.trim_end_matches('/').to_owned());
    }

    pub fn add_number(&self, config: NumberConfig) {
        let malformed = !ids::is_sid(&config.account_sid, "AC")
            || !ids::is_e164(&config.phone_number)
            || config
                .messaging_service_sid
                .as_deref()
                .is_some_and(|mg| !ids::is_sid(mg, "MG"));
        if malformed {
            // Kept, as Twilio would never issue it: sends through it will be refused.
            tracing::warn!(number = %config.phone_number, "sandbox Twilio number with malformed SIDs or number");
        }
        let mut st = self.lock();
        if st
            .numbers
            .values()
            .any(|n| n.account_sid == config.account_sid && n.auth_token != config.auth_token)
        {
            tracing::warn!(account = %config.account_sid, "sandbox numbers of one account with different auth tokens");
        }
        st.numbers.insert(config.phone_number.clone(), config);
    }

    /// Points the number's messaging webhook at `url` (tsunagu's port is known only once it runs).
    pub fn set_sms_url(&self, number: &str, url: &str) {
        if let Some(n) = self.lock().numbers.get_mut(number) {
            n.sms_url = Some(url.to_owned());
        }
    }

    /// `number` sends at most `segments_per_second`, queueing up to `queue_segments` beyond
    /// which a send is refused with 429/20429. Default: 1 per second, a queue of 60.
    pub fn set_rate_limit(&self, number: &str, segments_per_second: u32, queue_segments: u32) {
        self.lock()
            .rates
            .insert(number.to_owned(), (segments_per_second, queue_segments));
    }

    /// For the demo: every accepted send moves queued → sent → delivered by itself, with status
    /// callbacks when the send asked for them.
    pub fn set_auto_status(&self, on: bool) {
        self.lock().auto_status = on;
    }

    /// Every message, both directions (keyword auto-answers included), in order.
    pub fn messages(&self) -> Vec<SmsMessage> {
        self.lock().messages.clone()
    }

    /// Messages sent through the API to `phone` (not the keyword auto-answers).
    pub fn sent_to(&self, phone: &str) -> Vec<SmsMessage> {
        self.messages()
            .into_iter()
            .filter(|m| m.direction == "outbound-api" && m.to == phone)
            .collect()
    }

    pub fn message(&self, sid: &str) -> Option<SmsMessage> {
        self.lock().messages.iter().find(|m| m.sid == sid).cloned()
    }

    /// True while `phone` has opted out of messages from `number` (or its Messaging Service).
    pub fn is_opted_out(&self, number: &str, phone: &str) -> bool {
        let st = self.lock();
        st.opted_out
            .contains(&(st.opt_out_scope(number), phone.to_owned()))
    }

    /// How many API calls reached a path ending with `path_suffix`, refused ones included.
    pub fn calls_to(&self, path_suffix: &str) -> usize {
        self.lock()
            .calls
            .iter()
            .filter(|(p, _)| p.ends_with(path_suffix))
            .count()
    }

    /// The next `times` calls whose path ends with `path_suffix` answer `status` (with Twilio's
    /// body for it) and are NOT executed.
    pub fn fail_next_before_accept(&self, path_suffix: &str, status: u16, times: u32) {
        self.add_fault(path_suffix, FaultKind::Before(status, None), times);
    }

    /// As [`TwilioSandbox::fail_next_before_accept`], with `Retry-After: {retry_after_secs}`.
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

    /// Executed (the message exists and is delivered) but answered 500: a lost answer.
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

/// Twilio doc: Message resource — the `api.v2010.account.message` JSON, exactly the spec's
/// properties (counts are strings there; `price` stays null until Twilio bills).
pub(crate) fn resource(m: &SmsMessage) -> Value {
    let uri = format!("/2010-04-01/Accounts/{}/Messages/{}", m.account_sid, m.sid);
    let sent = matches!(
        m.status.as_str(),
        "sent" | "delivered" | "undelivered" | "read"
    ) || m.direction == "inbound";
    json!({
        "account_sid": m.account_sid,
        "api_version": "2010-04-01",
        "body": m.body,
        "date_created": ids::rfc2822(m.date_created),
        "date_sent": sent.then(|| ids::rfc2822(m.date_updated)),
        "date_updated": ids::rfc2822(m.date_updated),
        "direction": m.direction,
        "error_code": m.error_code,
        "error_message": m.error_code.map(|c| format!("Error {c}")),
        "from": (!m.sender_pending).then(|| m.from.clone()),
        "messaging_service_sid": m.messaging_service_sid,
        "num_media": m.media_urls.len().to_string(),
        "num_segments": if m.sender_pending { "0".to_owned() } else { m.num_segments.to_string() },
        "price": null,
        "price_unit": "USD",
        "sid": m.sid,
        "status": m.status,
        "subresource_uris": { "media": format!("{uri}/Media.json") },
        "to": m.to,
        "uri": format!("{uri}.json"),
    })
}
