//! Outbound half of an adapter: send a queued message, fetch an inbound message's media and a
//! person's profile, the pacing budgets a send needs, and what a provider's answer means in
//! tsunagu's terms (sent, retry, refused with a stable code and its effect on reachability, in
//! doubt). Pure: the outbox reads and records everything in the database; the adapter only
//! decides and calls the provider.
use std::time::Duration;

use bytes::Bytes;
use serde_json::Value;
use sha2::{Digest, Sha256};
use tsunagu_core::jobs::SendMessage;

use super::Credentials;
use crate::delivery::{SendFailure, Sent};
use crate::outbound::REFUSED_CODE;

/// The channel a call goes through: its addresses and typed credentials, and the one shared
/// client (`crate::outbound`) every provider call uses.
pub struct Channel<'a> {
    pub http: &'a reqwest::Client,
    /// Our channel id (Twilio's status callback URL names it).
    pub id: &'a str,
    pub api_base_url: &'a str,
    /// LINE's content host (`api-data.line.me`); the API base when unset.
    pub api_data_base_url: Option<&'a str>,
    pub creds: &'a Credentials,
    /// Where a message leaves from when its thread has no `via` yet (first number or page).
    pub default_via: Option<&'a str>,
    /// A Twilio Messaging Service that picks the number, when the channel has one.
    pub messaging_service_sid: Option<&'a str>,
    /// `TSUNAGU_PUBLIC_URL` (no trailing slash): status callbacks come back here.
    pub public_base: &'a str,
}

/// One queued message as it leaves, with what the outbox knows about this attempt.
pub struct Outgoing<'a> {
    pub job: &'a SendMessage,
    pub now_ms: i64,
    /// This attempt's number (from 1) and when the first one ran.
    pub attempt: i64,
    pub first_attempt_at_ms: Option<i64>,
    /// Read for providers with a service window (`Rules::service_window_ms`), else `None`.
    pub window: Option<Window>,
}

/// What a window rule is decided on when the message leaves (not when it was queued).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// The patient's last message on this channel, if any is recorded.
    pub last_inbound_at_ms: Option<i64>,
    /// A staff member wrote the message (not automation).
    pub by_person: bool,
}

/// One pacing budget: on average one send per `interval_ms`, up to `burst` at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pace {
    pub key: String,
    pub interval_ms: i64,
    pub burst: i64,
}

impl Pace {
    /// A budget per (sender, recipient) pair whose key never holds the recipient in clear.
    pub fn pair_key(provider: &str, via: &str, to: &str) -> String {
        let h = hex::encode(&Sha256::digest(to.as_bytes())[..12]);
        format!("{provider}:pair:{via}:{h}")
    }
}

/// What a send needs before the call: a slot under every budget, and the budget a throttling
/// answer holds back until the provider's Retry-After.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Plan {
    pub budgets: Vec<Pace>,
    pub hold: Option<String>,
}

/// What a refusal means for reaching the person at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reach {
    /// The person opted out with the provider (Twilio 21610): `source` is recorded with it.
    OptedOut { source: String },
    /// The address cannot receive messages (WhatsApp 131026, Messenger 551…).
    Bounced { reason: String },
}

/// What one send came to, in the outbox's terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delivery {
    /// Accepted, or already accepted earlier under the same idempotency key (LINE's 409). The
    /// provider's id is what later status reports refer to.
    Sent { provider_message_id: Option<String> },
    /// Certainly not executed: try again, not sooner than `after`.
    Retry {
        after: Option<Duration>,
        error: String,
    },
    /// Refused for good: `code` is stable, for staff; `reach` what it means for the person.
    Rejected {
        code: &'static str,
        error: String,
        reach: Option<Reach>,
    },
    /// May have been executed: never repeated automatically.
    InDoubt { error: String },
}

impl Delivery {
    pub fn rejected(code: &'static str, error: impl Into<String>) -> Self {
        Delivery::Rejected {
            code,
            error: error.into(),
            reach: None,
        }
    }

    /// A send to a provider without an idempotency key (`crate::delivery`): its error code
    /// mapped by `code` (a refused outbound address keeps its own code), and by `reach` (given
    /// the provider's code and message) to what it means for the person.
    pub fn from_answer(
        answer: Result<Sent, SendFailure>,
        code: impl Fn(Option<&str>) -> &'static str,
        reach: impl Fn(&str, &str) -> Option<Reach>,
    ) -> Self {
        match answer {
            Ok(sent) => Delivery::Sent {
                provider_message_id: Some(sent.provider_message_id),
            },
            Err(f @ SendFailure::Retry { .. }) => Delivery::Retry {
                after: f.retry_after(),
                error: f.to_string(),
            },
            Err(SendFailure::Rejected {
                code: provider,
                message,
                ..
            }) => match provider.as_deref() {
                Some(REFUSED_CODE) => Delivery::rejected(REFUSED_CODE, message),
                other => Delivery::Rejected {
                    code: code(other),
                    reach: other.and_then(|c| reach(c, &message)),
                    error: message,
                },
            },
            Err(SendFailure::InDoubt { message }) => Delivery::InDoubt { error: message },
        }
    }
}

impl Outgoing<'_> {
    /// For providers without reply tokens: an answer meant for a token cannot be sent any other
    /// way (a push instead could reach a person who is not expecting it).
    pub fn without_reply_token(&self, provider: &str) -> Result<(), Delivery> {
        match self.job.reply {
            Some(_) => Err(Delivery::rejected(
                "reply_token_invalid",
                format!("{provider} has no reply tokens"),
            )),
            None => Ok(()),
        }
    }
}

/// Where delivery reports that overtook the answer to a send were kept: stored as raw webhook
/// events that matched no message then.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EarlyReports {
    /// Events of `event_type` with these provider event ids (WhatsApp `<wamid>:<status>`).
    ByEventIds {
        event_type: &'static str,
        ids: Vec<String>,
    },
    /// Events of these types from the recipient, received since the call began (Messenger's
    /// receipts, which name a mid or a watermark).
    FromRecipient {
        event_types: &'static [&'static str],
    },
}

/// A provider's report about the message just sent, in tsunagu's words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusReport {
    pub status: String,
    pub failure_code: Option<String>,
    pub failure_reason: Option<String>,
    /// When it happened; `None`: now.
    pub at_ms: Option<i64>,
}

/// One downloaded file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Media {
    pub content_type: String,
    pub bytes: Bytes,
}

/// Why a media download gave no file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MediaFailure {
    Retry {
        after: Option<Duration>,
        error: String,
    },
    /// Expired, refused or unusable: trying again will not help.
    Gone { code: &'static str, error: String },
}

/// A person's public profile as the provider gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Profile {
    pub display_name: String,
    pub picture_url: Option<String>,
    pub status_message: Option<String>,
    pub language: Option<String>,
}

/// What asking for a profile came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProfileFetch {
    Found(Profile),
    /// Nothing to record: the provider has no profiles, or none for this person.
    Nothing,
    Retry {
        after: Option<Duration>,
        error: String,
    },
    Failed {
        code: &'static str,
        error: String,
    },
}

/// What asking the provider to show a patient's messages as read came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MarkRead {
    Done,
    /// Nothing to do: the provider cannot, or the message carries no token for it.
    Nothing,
    Retry {
        after: Option<Duration>,
        error: String,
    },
    Failed {
        code: &'static str,
        error: String,
    },
}

/// Implemented by every adapter (see `super::Adapter`).
#[async_trait::async_trait]
pub trait Deliver: Send + Sync {
    /// Checks a message before anything is called and names the pacing it needs. `Err`: what
    /// it came to without calling the provider (no sender, a message the provider cannot carry,
    /// an expired reply token or retry key, a closed window).
    fn plan(&self, ch: &Channel<'_>, out: &Outgoing<'_>) -> Result<Plan, Delivery>;

    /// Sends a message `plan` allowed, once a pacing slot was taken.
    async fn send(&self, ch: &Channel<'_>, out: &Outgoing<'_>) -> Delivery;

    /// Whether the provider can carry one of tsunagu's message objects (`crate::compose`)
    /// within its limits, checked when a message is queued so that what the provider would
    /// refuse is refused before; `Err` says why not (for developers).
    fn can_carry(&self, message: &Value) -> Result<(), String>;

    /// The provider's error code as a stable refusal code staff can act on.
    fn refusal_code(&self, provider_code: Option<&str>) -> &'static str;

    /// Where reports that may have overtaken the answer naming `sent_id` are found.
    fn early_reports(&self, _sent_id: &str) -> Option<EarlyReports> {
        None
    }

    /// One stored event of `event_type` read as a report about `sent_id`, sent from
    /// `started_ms`; `None` when it is about another message.
    fn early_report(
        &self,
        _event_type: &str,
        _body: &Value,
        _sent_id: &str,
        _started_ms: i64,
    ) -> Option<StatusReport> {
        None
    }

    /// Whether status reports name our message themselves and may overtake the answer
    /// (Twilio's callback URL carries our id): the answer then records `sent` without moving a
    /// message back, and a send in doubt that a report already named was accepted.
    fn reports_name_our_message(&self) -> bool {
        false
    }

    /// An inbound message's media, from the provider's reference (`FetchMedia::media`).
    async fn fetch_media(
        &self,
        ch: &Channel<'_>,
        media: &Value,
    ) -> Result<Vec<Media>, MediaFailure>;

    /// Shows the patient that their messages up to this inbound one (its stored `payload`)
    /// were read, where the provider can (`Rules::marks_read`).
    async fn mark_read(&self, _ch: &Channel<'_>, _payload: &Value) -> MarkRead {
        MarkRead::Nothing
    }

    /// Shows `user_id` that the bot is working on an answer (LINE's loading indicator), where
    /// the provider can. Best effort: `Ok(false)` where it cannot, `Err` why it failed.
    async fn show_loading(
        &self,
        _ch: &Channel<'_>,
        _user_id: &str,
        _seconds: u32,
    ) -> Result<bool, String> {
        Ok(false)
    }

    /// The profile of the person `user_id`, asked through `via` (a page) when given.
    async fn fetch_profile(
        &self,
        _ch: &Channel<'_>,
        _user_id: &str,
        _via: Option<&str>,
    ) -> ProfileFetch {
        ProfileFetch::Nothing
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pair_key_never_holds_the_recipient() {
        let key = Pace::pair_key("whatsapp", "PNID", "819012345678");
        assert!(key.starts_with("whatsapp:pair:PNID:"));
        assert!(!key.contains("819012345678"));
        assert_eq!(key, Pace::pair_key("whatsapp", "PNID", "819012345678"));
    }

    #[test]
    fn a_refused_address_keeps_its_code_and_other_refusals_are_mapped() {
        let opted_out = |c: Option<&str>| match c {
            Some("21610") => "recipient_opted_out",
            Some(_) | None => "rejected_by_provider",
        };
        let reach = |c: &str, _: &str| {
            (c == "21610").then(|| Reach::OptedOut {
                source: "provider:21610".into(),
            })
        };
        let refused = SendFailure::Rejected {
            status: 0,
            code: Some(REFUSED_CODE.into()),
            message: "x".into(),
        };
        let d = Delivery::from_answer(Err(refused), opted_out, reach);
        assert_eq!(d, Delivery::rejected(REFUSED_CODE, "x"));
        let stop = SendFailure::Rejected {
            status: 400,
            code: Some("21610".into()),
            message: "x".into(),
        };
        let d = Delivery::from_answer(Err(stop), opted_out, reach);
        assert!(matches!(
            d,
            Delivery::Rejected {
                code: "recipient_opted_out",
                reach: Some(Reach::OptedOut { .. }),
                ..
            }
        ));
        let sent = Sent {
            provider_message_id: "SM1".into(),
            status: None,
        };
        let d = Delivery::from_answer(Ok(sent), opted_out, reach);
        let id = Some("SM1".to_string());
        assert_eq!(
            d,
            Delivery::Sent {
                provider_message_id: id
            }
        );
    }
}
