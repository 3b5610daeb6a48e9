//! The kinds of channel a clinic connects, and the delivery rules that differ between them.
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChannelKind {
    Line,
    WhatsApp,
    Messenger,
    Sms,
}

const HOUR_MS: i64 = 3_600_000;

impl ChannelKind {
    pub const ALL: [ChannelKind; 4] = [
        ChannelKind::Line,
        ChannelKind::WhatsApp,
        ChannelKind::Messenger,
        ChannelKind::Sms,
    ];

    /// The stored and URL form: `line`, `whatsapp`, `messenger`, `sms`.
    pub fn as_str(self) -> &'static str {
        match self {
            ChannelKind::Line => "line",
            ChannelKind::WhatsApp => "whatsapp",
            ChannelKind::Messenger => "messenger",
            ChannelKind::Sms => "sms",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// How long after the patient's last message free-form messages may be sent (WhatsApp's
    /// customer-service window, Messenger's standard messaging window). `None`: no such rule.
    pub fn service_window_ms(self) -> Option<i64> {
        match self {
            ChannelKind::WhatsApp | ChannelKind::Messenger => Some(24 * HOUR_MS),
            ChannelKind::Line | ChannelKind::Sms => None,
        }
    }

    /// Messenger's `HUMAN_AGENT` tag: a person (not automation) may answer up to 7 days after
    /// the patient's last message.
    pub fn human_agent_window_ms(self) -> Option<i64> {
        match self {
            ChannelKind::Messenger => Some(7 * 24 * HOUR_MS),
            _ => None,
        }
    }

    /// The longest text one message may carry: LINE 5,000 characters, WhatsApp 4,096,
    /// Messenger 2,000, an SMS 1,600 (Twilio's limit; it is split into segments).
    pub fn max_text_chars(self) -> usize {
        match self {
            ChannelKind::Line => 5_000,
            ChannelKind::WhatsApp => 4_096,
            ChannelKind::Messenger => 2_000,
            ChannelKind::Sms => 1_600,
        }
    }

    /// Whether a send carries a provider idempotency key (LINE's `X-Line-Retry-Key`), so an
    /// attempt whose outcome is unknown may be repeated. Without one it is in doubt instead.
    pub fn has_idempotency_key(self) -> bool {
        matches!(self, ChannelKind::Line)
    }
}

impl std::fmt::Display for ChannelKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        for k in ChannelKind::ALL {
            assert_eq!(ChannelKind::parse(k.as_str()), Some(k));
        }
        assert_eq!(ChannelKind::parse("email"), None);
    }
}
