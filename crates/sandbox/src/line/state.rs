//! The emulator's memory: channels, friends, what was sent, issued tokens, injected faults.
use std::collections::{HashMap, HashSet};
use std::time::Duration;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

use super::{ChannelConfig, Received, UserProfile};

#[derive(Default)]
pub(crate) struct State {
    /// By access token.
    pub channels: HashMap<String, Channel>,
    pub received: Vec<Received>,
    /// Every API call as (path, status), accepted or not.
    pub calls: Vec<(String, u16)>,
    /// Loading indicators shown (`POST /v2/bot/chat/loading/start`): (user id, seconds).
    pub loading: Vec<(String, u64)>,
    /// Chat history per user/group/room id, both directions (for `delivered_to` and the simulator).
    pub transcripts: HashMap<String, Vec<ChatEntry>>,
    pub reply_tokens: HashMap<String, ReplyToken>,
    /// markAsReadToken → the message it marks, bound to a channel when its webhook is sent.
    pub read_tokens: HashMap<String, ReadToken>,
    /// (access token, retry key) → the accepted request.
    pub retry_keys: HashMap<(String, String), AcceptedKey>,
    /// Message id → media the sandbox generated for an inbound message.
    pub contents: HashMap<String, Content>,
    /// Narrowcast request id → progress.
    pub narrowcasts: HashMap<String, Value>,
    pub faults: Vec<Fault>,
    /// Endpoint path suffix → allowed requests per second (per channel).
    pub rate_limits: Vec<(String, u32)>,
    /// (access token, rate-limit suffix) → (second, requests counted in it).
    pub rate_windows: HashMap<(String, String), (i64, u32)>,
    pub next_message_id: u64,
    /// LINE Login: its channels, issued codes, the simulated user.
    pub login: super::login::LoginState,
}

pub(crate) struct Channel {
    pub config: ChannelConfig,
    pub users: Vec<UserProfile>,
    /// Users who blocked the bot (sent `unfollow`): sends to them are silently dropped, as on LINE.
    pub blocked: HashSet<String>,
    pub consumption: i64,
    /// Rich menus, the default, per-user links, aliases and batch progress.
    pub rich_menus: super::richmenu::RichMenus,
}

#[derive(Clone, Debug, Serialize)]
pub struct ChatEntry {
    /// "user" (the patient, via a webhook) or "bot" (the clinic, via the API).
    pub from: &'static str,
    pub at: DateTime<Utc>,
    /// The channel's bot user id.
    pub channel: String,
    pub message: Value,
    /// A user's message the bot marked read (`POST /v2/bot/chat/markAsRead`): the user sees 既読.
    pub read: bool,
}

pub(crate) struct ReadToken {
    pub channel: Option<String>,
    /// The one-to-one chat (user id) and the message the token came with.
    pub thread: String,
    pub message_id: String,
}

pub(crate) struct ReplyToken {
    /// Bound to a channel when the webhook carrying it is sent.
    pub channel: Option<String>,
    /// Where a reply goes: the user, group or room of the event.
    pub target: String,
    pub issued_at: DateTime<Utc>,
    pub used: bool,
}

pub(crate) struct AcceptedKey {
    pub request_id: String,
    pub at: DateTime<Utc>,
    pub sent_messages: Value,
}

pub(crate) struct Content {
    /// Bound to a channel when the webhook carrying the message is sent.
    pub channel: Option<String>,
    pub content_type: String,
    pub bytes: Bytes,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FaultKind {
    /// Answer `status` (with `Retry-After` seconds if set) without executing anything.
    Before(u16, Option<u64>),
    /// Execute (deliver, record the retry key), then answer `status`: a lost success.
    After(u16),
    /// Execute, then wait before answering: the caller's timeout fires after the send.
    DelayAfter(Duration),
}

pub(crate) struct Fault {
    pub suffix: String,
    pub kind: FaultKind,
    pub remaining: u32,
}

impl State {
    /// The channel by access token, or by its bot user id (the webhook `destination`).
    pub fn resolve(&self, token_or_bot: &str) -> Option<String> {
        if self.channels.contains_key(token_or_bot) {
            return Some(token_or_bot.to_owned());
        }
        self.channels
            .iter()
            .find(|(_, c)| c.config.bot_user_id == token_or_bot)
            .map(|(token, _)| token.clone())
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

    /// Counts this request in its one-second window; false when over the configured limit.
    pub fn within_rate_limit(&mut self, token: &str, path: &str, now: DateTime<Utc>) -> bool {
        let Some((suffix, limit)) = self
            .rate_limits
            .iter()
            .find(|(suffix, _)| path.ends_with(suffix.as_str()))
            .cloned()
        else {
            return true;
        };
        let second = now.timestamp();
        // One window per endpoint, not per concrete path (every profile URL shares one).
        let window = self
            .rate_windows
            .entry((token.to_owned(), suffix))
            .or_insert((second, 0));
        if window.0 != second {
            *window = (second, 0);
        }
        window.1 += 1;
        window.1 <= limit
    }

    /// A message id like LINE's (numeric string, 18 digits).
    pub fn message_id(&mut self) -> String {
        self.next_message_id += 1;
        (500_000_000_000_000_000u64 + self.next_message_id).to_string()
    }

    pub fn log_chat(
        &mut self,
        thread: &str,
        from: &'static str,
        channel: &str,
        message: Value,
        at: DateTime<Utc>,
    ) {
        self.transcripts
            .entry(thread.to_owned())
            .or_default()
            .push(ChatEntry {
                from,
                at,
                channel: channel.to_owned(),
                message,
                read: false,
            });
    }

    /// Users of the channel who have not blocked it.
    pub fn followers(&self, token: &str) -> Vec<String> {
        self.channels
            .get(token)
            .map(|c| {
                c.users
                    .iter()
                    .filter(|u| !c.blocked.contains(&u.user_id))
                    .map(|u| u.user_id.clone())
                    .collect()
            })
            .unwrap_or_default()
    }
}
