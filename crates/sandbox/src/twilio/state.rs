//! The emulator's memory: the account's numbers, every message both ways, hosted media,
//! opt-outs, send queues and injected faults.
use std::collections::{HashMap, HashSet};
use std::time::Duration;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use serde::Serialize;

use super::NumberConfig;

#[derive(Default)]
pub(crate) struct State {
    /// By phone number (E.164).
    pub numbers: HashMap<String, NumberConfig>,
    /// Every message, inbound and outbound, in order.
    pub messages: Vec<SmsMessage>,
    /// Media sid → what the patient sent.
    pub media: HashMap<String, Media>,
    /// (opt-out scope: the Messaging Service sid, else the number; patient) pairs.
    pub opted_out: HashSet<(String, String)>,
    /// Every API call as (path, status), accepted or not.
    pub calls: Vec<(String, u16)>,
    pub faults: Vec<Fault>,
    /// Number → (segments per second, queue size in segments); `DEFAULT_RATE` otherwise.
    pub rates: HashMap<String, (u32, u32)>,
    /// Number → (segments waiting to go out, as of when).
    pub backlog: HashMap<String, (f64, DateTime<Utc>)>,
    /// Absolute base for media URLs (`…/twilio` when nested); set by `spawn` when unset.
    pub public_url: Option<String>,
    pub auto_status: bool,
}

/// Twilio's long-code default: one segment per second. Twilio itself queues hours of traffic;
/// the sandbox queues a minute's worth, so a runaway loop shows quickly as 429s.
pub(crate) const DEFAULT_RATE: (u32, u32) = (1, 60);

/// One message as the sandbox keeps it (inbound from a patient, or sent through the API).
#[derive(Clone, Debug, Serialize)]
pub struct SmsMessage {
    pub sid: String,
    pub account_sid: String,
    /// `inbound` or `outbound-api` (`outbound-reply` for the keyword auto-answers).
    pub direction: &'static str,
    pub from: String,
    pub to: String,
    pub body: String,
    /// Outbound: the `MediaUrl`s sent; inbound: the sandbox-hosted URLs of the patient's media.
    pub media_urls: Vec<String>,
    pub status: String,
    pub error_code: Option<u32>,
    pub messaging_service_sid: Option<String>,
    pub num_segments: u32,
    pub status_callback: Option<String>,
    pub date_created: DateTime<Utc>,
    pub date_updated: DateTime<Utc>,
    /// The answer to the create call showed no `from` yet (Messaging Service picks it later).
    #[serde(skip)]
    pub sender_pending: bool,
}

pub(crate) struct Media {
    pub account_sid: String,
    pub message_sid: String,
    pub content_type: String,
    pub bytes: Bytes,
    pub created: DateTime<Utc>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FaultKind {
    /// Answer `status` (with `Retry-After` seconds if set) without executing anything.
    Before(u16, Option<u64>),
    /// Execute (the message is created and delivered), then answer 500: a lost answer.
    After,
    /// Execute, then answer late: the caller's timeout fires after the send.
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
            path.ends_with(&f.suffix) && matches!(f.kind, FaultKind::Before(..)) == before
        })?;
        let fault = &mut self.faults[pos];
        let kind = fault.kind;
        fault.remaining = fault.remaining.saturating_sub(1);
        if fault.remaining == 0 {
            self.faults.remove(pos);
        }
        Some(kind)
    }

    /// Queues `segments` on `number`'s sender at `now`; false when the queue is full (429).
    /// The backlog drains at the number's rate by the clock, so a fake clock makes it exact.
    pub fn enqueue(&mut self, number: &str, segments: u32, now: DateTime<Utc>) -> bool {
        let (per_second, queue) = self.rates.get(number).copied().unwrap_or(DEFAULT_RATE);
        let (waiting, at) = self.backlog.get(number).copied().unwrap_or((0.0, now));
        let elapsed = (now - at).num_milliseconds().max(0) as f64 / 1000.0;
        let waiting = (waiting - elapsed * f64::from(per_second.max(1))).max(0.0);
        // An idle number takes any single message, however many segments it has.
        let full = waiting > 0.0 && waiting.ceil() + f64::from(segments) > f64::from(queue);
        let waiting = if full {
            waiting
        } else {
            waiting + f64::from(segments)
        };
        self.backlog.insert(number.to_owned(), (waiting, now));
        !full
    }

    /// Where opt-outs of `number` apply: its whole Messaging Service, as on Twilio.
    pub fn opt_out_scope(&self, number: &str) -> String {
        self.numbers
            .get(number)
            .and_then(|n| n.messaging_service_sid.clone())
            .unwrap_or_else(|| number.to_owned())
    }

    pub fn message_mut(&mut self, sid: &str) -> Option<&mut SmsMessage> {
        self.messages.iter_mut().find(|m| m.sid == sid)
    }

    /// The account's auth token (any of its numbers carries it).
    pub fn auth_token(&self, account_sid: &str) -> Option<String> {
        self.numbers
            .values()
            .find(|n| n.account_sid == account_sid)
            .map(|n| n.auth_token.clone())
    }
}
