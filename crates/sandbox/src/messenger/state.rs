//! The emulator's memory: pages, their users, conversation windows, what was sent, media,
//! injected faults and rate windows.
use std::collections::{HashMap, HashSet};
use std::time::Duration;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

use super::{MessengerUser, PageConfig, RateLimitAnswer, Received};

#[derive(Default)]
pub(crate) struct State {
    /// By page id.
    pub pages: HashMap<String, Page>,
    pub received: Vec<Received>,
    /// Every API call as (path, status), accepted or not.
    pub calls: Vec<(String, u16)>,
    /// (page id, psid) → the conversation, both directions.
    pub chats: HashMap<(String, String), Vec<ChatEntry>>,
    /// (page id, psid) → when the person last wrote (opens the 24-hour window).
    pub last_inbound: HashMap<(String, String), DateTime<Utc>>,
    /// Attachment id → media served at `{public_url}/attachments/{id}`.
    pub media: HashMap<String, Media>,
    /// Where the router is reachable from outside (it may be nested under a prefix).
    pub public_url: Option<String>,
    pub auto_receipts: bool,
    pub faults: Vec<Fault>,
    /// Sends per second per page, and how the excess is answered.
    pub rate_limit: Option<(u32, RateLimitAnswer)>,
    /// page id → (second, sends counted in it).
    pub rate_windows: HashMap<String, (i64, u32)>,
    pub next_id: u64,
}

pub(crate) struct Page {
    pub config: PageConfig,
    pub users: Vec<MessengerUser>,
    /// People who blocked the page: sends answer 551.
    pub blocked: HashSet<String>,
}

/// One line of a conversation as the simulator shows it.
#[derive(Clone, Debug, Serialize)]
pub struct ChatEntry {
    /// "user" (the person, via a webhook) or "page" (the clinic, via the Send API).
    pub from: &'static str,
    pub at: DateTime<Utc>,
    pub mid: String,
    /// The `message` object (or `{"postback": …}` for a button press).
    pub message: Value,
}

pub(crate) struct Media {
    pub content_type: String,
    pub bytes: Bytes,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FaultKind {
    /// Answer `status` (with `Retry-After` seconds if set) without executing anything.
    Before(u16, Option<u64>),
    /// Execute (deliver), then answer 500: a lost response.
    After,
    /// Execute, then wait before answering: the caller's timeout fires after the send.
    DelayAfter(Duration),
}

pub(crate) struct Fault {
    pub suffix: String,
    pub kind: FaultKind,
    pub remaining: u32,
}

impl State {
    /// The page a token belongs to.
    pub fn page_of_token(&self, token: &str) -> Option<String> {
        self.pages
            .values()
            .find(|p| !token.is_empty() && p.config.access_token == token)
            .map(|p| p.config.page_id.clone())
    }

    pub fn user(&self, page: &str, psid: &str) -> Option<&MessengerUser> {
        self.pages.get(page)?.users.iter().find(|u| u.psid == psid)
    }

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

    /// Counts a send in its one-second window; the configured answer when over the limit.
    pub fn over_rate_limit(&mut self, page: &str, now: DateTime<Utc>) -> Option<RateLimitAnswer> {
        let (limit, answer) = self.rate_limit?;
        let second = now.timestamp();
        let window = self
            .rate_windows
            .entry(page.to_owned())
            .or_insert((second, 0));
        if window.0 != second {
            *window = (second, 0);
        }
        window.1 += 1;
        (window.1 > limit).then_some(answer)
    }

    /// A message id shaped like Meta's current ones (`m_` + url-safe characters).
    pub fn mid(&mut self) -> String {
        self.next_id += 1;
        format!("m_{}", uuid::Uuid::new_v4().simple()) + &format!("{:06}", self.next_id)
    }

    pub fn log_chat(&mut self, page: &str, psid: &str, entry: ChatEntry) {
        self.chats
            .entry((page.to_owned(), psid.to_owned()))
            .or_default()
            .push(entry);
    }

    /// `{public_url}/attachments/{id}`, or a relative path before the URL is known.
    pub fn media_url(&self, id: &str) -> String {
        let base = self.public_url.as_deref().unwrap_or("");
        format!("{}/attachments/{id}", base.trim_end_matches('/'))
    }
}
