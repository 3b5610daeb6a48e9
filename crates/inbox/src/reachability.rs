//! Can this patient be reached on this channel identity right now, and how: the one check every
//! sender makes after consent (blocked, opted out, bounced, the provider's service window).
use serde::Serialize;
use tsunagu_channels::provider::HOUR_MS;
use tsunagu_channels::ChannelKind;
use tsunagu_core::{Code, Refusal};
use tsunagu_store::patients::Identity;

/// Why a patient cannot be reached now (refused as `recipient_blocked`, `recipient_opted_out`,
/// `recipient_bounced`, `outside_service_window`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Unreachable {
    Blocked,
    OptedOut,
    Bounced { reason: String },
    OutsideServiceWindow { kind: ChannelKind },
}

impl From<Unreachable> for Refusal {
    fn from(u: Unreachable) -> Refusal {
        match u {
            Unreachable::Blocked => {
                Refusal::new(Code::RecipientBlocked).detail("the patient has blocked this account")
            }
            Unreachable::OptedOut => Refusal::new(Code::RecipientOptedOut)
                .detail("the patient opted out of messages on this channel"),
            Unreachable::Bounced { reason } => Refusal::new(Code::RecipientBounced)
                .detail(format!("the address cannot receive messages: {reason}")),
            Unreachable::OutsideServiceWindow { kind } => {
                Refusal::new(Code::OutsideServiceWindow).detail(outside_window_text(kind))
            }
        }
    }
}

/// The developer's detail for `outside_service_window` (the API's `message`), from the
/// provider's window rules; staff read the code's words in the catalog instead.
fn outside_window_text(kind: ChannelKind) -> String {
    let rules = kind.rules();
    let Some(window) = rules.service_window_ms else {
        // No service window: never refused for it.
        return "the provider's service window is closed".into();
    };
    let hours = window / HOUR_MS;
    let passed = match rules.human_agent_window_ms {
        Some(staff) => format!(
            "more than {hours} hours ({} days for a staff reply)",
            staff / DAY_MS
        ),
        None => format!("more than {hours} hours"),
    };
    let now = if rules.template_outside_window {
        "allows only an approved template now"
    } else {
        "does not allow a message now"
    };
    let provider = kind.adapter().name();
    format!("{passed} have passed since the patient's last message; {provider} {now}")
}

const DAY_MS: i64 = 24 * HOUR_MS;

/// How a send goes out when it may.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SendMode {
    /// Inside the service window, or a channel without one.
    Standard,
    /// Messenger `MESSAGE_TAG` + `HUMAN_AGENT`: a person's reply 24 h – 7 days after the
    /// patient's last message.
    HumanAgent,
}

impl SendMode {
    /// The Messenger tag to send with, if any.
    pub fn tag(self) -> Option<&'static str> {
        match self {
            SendMode::Standard => None,
            SendMode::HumanAgent => Some("HUMAN_AGENT"),
        }
    }
}

/// Decides whether `content_kind` (text, template, …) may go to `ident` now; `by_person` is a
/// staff member's reply (Messenger's HUMAN_AGENT window). `last_inbound_at` falls back to the
/// conversation's when the identity has none recorded yet.
pub fn check(
    kind: ChannelKind,
    ident: Option<&Identity>,
    last_inbound_at: Option<i64>,
    by_person: bool,
    content_kind: &str,
    now_ms: i64,
) -> Result<SendMode, Unreachable> {
    if let Some(i) = ident {
        if i.follow_state == "blocked" {
            return Err(Unreachable::Blocked);
        }
        if i.opted_out_at.is_some() {
            return Err(Unreachable::OptedOut);
        }
        if let Some(reason) = i.bounced_at.and(i.bounce_reason.clone()) {
            return Err(Unreachable::Bounced { reason });
        }
    }
    let Some(window) = kind.rules().service_window_ms else {
        return Ok(SendMode::Standard);
    };
    // An approved template is what some providers allow outside the window (WhatsApp).
    if kind.rules().template_outside_window && content_kind == "template" {
        return Ok(SendMode::Standard);
    }
    let last = ident.and_then(|i| i.last_inbound_at).or(last_inbound_at);
    let since = last.map(|t| now_ms - t);
    if since.is_some_and(|s| s <= window) {
        return Ok(SendMode::Standard);
    }
    if let (Some(extended), Some(s)) = (kind.rules().human_agent_window_ms, since) {
        if by_person && s <= extended {
            return Ok(SendMode::HumanAgent);
        }
    }
    Err(Unreachable::OutsideServiceWindow { kind })
}

/// Reachability for people: shown on the patient's profile beside each identity.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Reachability {
    /// following | blocked | opted_out | bounced | unknown
    pub state: &'static str,
    pub opted_out_at: Option<i64>,
    pub bounce_reason: Option<String>,
    /// For channels with a service window: whether it is open now and until when.
    pub window_open: Option<bool>,
    pub window_closes_at: Option<i64>,
}

pub fn describe(kind: ChannelKind, ident: &Identity, now_ms: i64) -> Reachability {
    let state = if ident.follow_state == "blocked" {
        "blocked"
    } else if ident.opted_out_at.is_some() {
        "opted_out"
    } else if ident.bounced_at.is_some() {
        "bounced"
    } else if ident.follow_state == "following" || ident.last_inbound_at.is_some() {
        "following"
    } else {
        "unknown"
    };
    let closes = kind
        .rules()
        .service_window_ms
        .and_then(|w| ident.last_inbound_at.map(|t| t + w));
    Reachability {
        state,
        opted_out_at: ident.opted_out_at,
        bounce_reason: ident.bounce_reason.clone(),
        window_open: kind
            .rules()
            .service_window_ms
            .map(|_| closes.is_some_and(|c| c >= now_ms)),
        window_closes_at: closes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_window_detail_follows_each_providers_rules() {
        assert_eq!(
            outside_window_text(ChannelKind::WhatsApp),
            "more than 24 hours have passed since the patient's last message; WhatsApp allows only an approved template now"
        );
        assert_eq!(
            outside_window_text(ChannelKind::Messenger),
            "more than 24 hours (7 days for a staff reply) have passed since the patient's last message; Messenger does not allow a message now"
        );
        assert_eq!(
            outside_window_text(ChannelKind::Sms),
            "the provider's service window is closed"
        );
    }
}
