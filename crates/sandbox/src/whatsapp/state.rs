//! The emulator's memory: phone numbers, users, chats, templates, media, limits and faults.
use std::collections::HashMap;
use std::time::Duration;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

use super::{PhoneNumberConfig, Received, Template, WhatsAppUser};

/// Meta's documented defaults: 80 messages/s per number; to one user about one message every
/// 6 s, with short bursts allowed (the burst size is not published, so it is configurable).
pub(crate) const DEFAULT_THROUGHPUT: u32 = 80;
pub(crate) const DEFAULT_PAIR_BURST: u32 = 45;
pub(crate) const DEFAULT_PAIR_EVERY: Duration = Duration::from_secs(6);

pub(crate) struct State {
    /// By phone number id.
    pub numbers: HashMap<String, PhoneNumberConfig>,
    pub users: Vec<WhatsAppUser>,
    pub received: Vec<Received>,
    /// Every API call as (path, status), refused ones included.
    pub calls: Vec<(String, u16)>,
    /// (phone number id, wa_id) → both directions, in order.
    pub chats: HashMap<(String, String), Vec<ChatEntry>>,
    /// (phone number id, wa_id) → when the user last wrote: opens the 24-hour window.
    pub last_inbound: HashMap<(String, String), DateTime<Utc>>,
    pub templates: Vec<Template>,
    pub media: HashMap<String, Media>,
    /// Business-sent wamid → (phone number id, wa_id), for statuses.
    pub sent: HashMap<String, (String, String)>,
    /// Business-sent wamid → its `biz_opaque_callback_data`, echoed in its statuses.
    pub callback_data: HashMap<String, String>,
    pub faults: Vec<Fault>,
    pub throughput_per_second: u32,
    pub pair_burst: u32,
    pub pair_every: Duration,
    /// Phone number id → (second, sends counted in it).
    pub throughput: HashMap<String, (i64, u32)>,
    /// (phone number id, wa_id) → (tokens left, when last refilled).
    pub pair: HashMap<(String, String), (f64, DateTime<Utc>)>,
    pub auto_approve: bool,
    pub auto_status: Option<Duration>,
    /// Where this router is reachable from outside, for the media URLs it hands out.
    pub public_url: Option<String>,
    pub next_id: u64,
}

impl Default for State {
    fn default() -> Self {
        Self {
            numbers: HashMap::new(),
            users: Vec::new(),
            received: Vec::new(),
            calls: Vec::new(),
            chats: HashMap::new(),
            last_inbound: HashMap::new(),
            templates: Vec::new(),
            media: HashMap::new(),
            sent: HashMap::new(),
            callback_data: HashMap::new(),
            faults: Vec::new(),
            throughput_per_second: DEFAULT_THROUGHPUT,
            pair_burst: DEFAULT_PAIR_BURST,
            pair_every: DEFAULT_PAIR_EVERY,
            throughput: HashMap::new(),
            pair: HashMap::new(),
            auto_approve: false,
            auto_status: None,
            public_url: None,
            next_id: 0,
        }
    }
}

/// One line of a chat between the clinic's number and a user.
#[derive(Clone, Debug, Serialize)]
pub struct ChatEntry {
    /// "user" (the patient, via a webhook) or "business" (the clinic, via the API).
    pub from: &'static str,
    pub at: DateTime<Utc>,
    pub wamid: String,
    /// The message object: as the user sent it, or the clinic's request body.
    pub message: Value,
    /// For business messages: the latest status the driver reported (sent, delivered, read, failed).
    pub status: Option<String>,
}

pub(crate) struct Media {
    pub bytes: Bytes,
    pub mime_type: String,
    /// Lower-case hex SHA-256 of the bytes as stored: what webhooks and media info hand out,
    /// kept when [`super::WhatsAppSandbox::replace_media`] corrupts the bytes.
    pub sha256: String,
    /// Bound to the number whose webhook carried it; only that number's token may fetch it.
    pub phone_number_id: Option<String>,
    /// The lookaside URL's one-time hash and when it was issued (Meta's URLs last 5 minutes).
    pub url_hash: Option<(String, DateTime<Utc>)>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FaultKind {
    /// Answer `status` with Meta's body for `code` (and `Retry-After` seconds if set) without
    /// executing anything.
    Before {
        status: u16,
        code: i64,
        retry_after: Option<u64>,
    },
    /// Execute, then answer 500 (a lost answer).
    After,
    /// Execute, then answer late (client timeouts).
    DelayAfter(Duration),
}

pub(crate) struct Fault {
    pub suffix: String,
    pub kind: FaultKind,
    pub remaining: u32,
}

impl State {
    /// Takes one pending fault for `path` at the given stage, if any.
    pub fn take_fault(&mut self, path: &str, before: bool) -> Option<FaultKind> {
        let pos = self.faults.iter().position(|f| {
            path.ends_with(&f.suffix) && matches!(f.kind, FaultKind::Before { .. }) == before
        })?;
        let fault = &mut self.faults[pos];
        let kind = fault.kind;
        fault.remaining = fault.remaining.saturating_sub(1);
        if fault.remaining == 0 {
            self.faults.remove(pos);
        }
        Some(kind)
    }

    /// The phone number whose access token this is.
    pub fn number_by_token(&self, token: &str) -> Option<&PhoneNumberConfig> {
        self.numbers.values().find(|n| n.access_token == token)
    }

    pub fn next(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    pub fn user_name(&self, wa_id: &str) -> Option<String> {
        self.users
            .iter()
            .find(|u| u.wa_id == wa_id)
            .map(|u| u.name.clone())
    }

    pub fn log_chat(&mut self, phone: &str, wa_id: &str, entry: ChatEntry) {
        self.chats
            .entry((phone.to_owned(), wa_id.to_owned()))
            .or_default()
            .push(entry);
    }

    /// Counts a send in its one-second window; false past the number's throughput.
    pub fn within_throughput(&mut self, phone: &str, now: DateTime<Utc>) -> bool {
        let second = now.timestamp();
        let window = self
            .throughput
            .entry(phone.to_owned())
            .or_insert((second, 0));
        if window.0 != second {
            *window = (second, 0);
        }
        window.1 += 1;
        window.1 <= self.throughput_per_second
    }

    /// A token bucket per (number, user): `pair_burst` at once, one more every `pair_every`.
    pub fn within_pair_rate(&mut self, phone: &str, wa_id: &str, now: DateTime<Utc>) -> bool {
        let burst = f64::from(self.pair_burst);
        let every = self.pair_every.as_secs_f64().max(0.001);
        let bucket = self
            .pair
            .entry((phone.to_owned(), wa_id.to_owned()))
            .or_insert((burst, now));
        let elapsed = (now - bucket.1).num_milliseconds().max(0) as f64 / 1000.0;
        bucket.0 = (bucket.0 + elapsed / every).min(burst);
        bucket.1 = now;
        if bucket.0 >= 1.0 {
            bucket.0 -= 1.0;
            true
        } else {
            false
        }
    }
}
