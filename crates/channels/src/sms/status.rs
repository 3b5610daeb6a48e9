//! Message status callback.
use super::{field, required, ParseError};

/// Twilio doc: Messaging › Outbound message status in status callbacks (`MessageStatus`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MessageStatus {
    Queued,
    Sending,
    Sent,
    Delivered,
    Undelivered,
    Failed,
    Receiving,
    Received,
    Read,
    Canceled,
    Accepted,
    Scheduled,
    /// A value Twilio added after this code was written; kept, never ranked above anything.
    Other(String),
}

impl MessageStatus {
    /// Twilio doc: Messaging › Message resource › "Message Status values".
    pub fn from_wire(s: &str) -> Self {
        match s {
            "queued" => Self::Queued,
            "sending" => Self::Sending,
            "sent" => Self::Sent,
            "delivered" => Self::Delivered,
            "undelivered" => Self::Undelivered,
            "failed" => Self::Failed,
            "receiving" => Self::Receiving,
            "received" => Self::Received,
            "read" => Self::Read,
            "canceled" => Self::Canceled,
            "accepted" => Self::Accepted,
            "scheduled" => Self::Scheduled,
            other => Self::Other(other.to_owned()),
        }
    }

    /// Twilio doc: Messaging › Message resource › "Message Status values" — the wire name.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Queued => "queued",
            Self::Sending => "sending",
            Self::Sent => "sent",
            Self::Delivered => "delivered",
            Self::Undelivered => "undelivered",
            Self::Failed => "failed",
            Self::Receiving => "receiving",
            Self::Received => "received",
            Self::Read => "read",
            Self::Canceled => "canceled",
            Self::Accepted => "accepted",
            Self::Scheduled => "scheduled",
            Self::Other(s) => s,
        }
    }
}

/// Twilio doc: Messaging › Outbound message status — lifecycle order
/// (accepted → scheduled → queued → sending → sent → delivered/undelivered/failed → read;
/// canceled ends a scheduled message; inbound: receiving → received). Callbacks can
/// arrive out of order, so only store a status that `advances` the current one.
pub fn status_rank(status: &MessageStatus) -> u8 {
    match status {
        MessageStatus::Other(_) => 0,
        MessageStatus::Accepted => 1,
        MessageStatus::Scheduled => 2,
        MessageStatus::Queued => 3,
        MessageStatus::Sending | MessageStatus::Receiving => 4,
        MessageStatus::Sent | MessageStatus::Received => 5,
        MessageStatus::Delivered
        | MessageStatus::Undelivered
        | MessageStatus::Failed
        | MessageStatus::Canceled => 6,
        MessageStatus::Read => 7,
    }
}

/// Twilio doc: Messaging › Outbound message status — true when `next` is later than
/// `current` (equal ranks do not replace each other: the first final status stays).
pub fn advances(current: &MessageStatus, next: &MessageStatus) -> bool {
    status_rank(next) > status_rank(current)
}

/// A status callback posted to a message's `StatusCallback` URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusCallback {
    pub message_sid: String,
    pub status: MessageStatus,
    /// Twilio error code (e.g. 30003) for undelivered/failed.
    pub error_code: Option<u32>,
    /// Every form field as received.
    pub raw: Vec<(String, String)>,
}

/// Twilio doc: Messaging › Outbound message status in status callbacks
/// (`MessageSid`, `MessageStatus`, `ErrorCode`; `SmsSid`/`SmsStatus` as fallbacks).
pub fn parse(form: &[(String, String)]) -> Result<StatusCallback, ParseError> {
    let message_sid = required(form, &["MessageSid", "SmsSid"])?;
    let status = MessageStatus::from_wire(&required(form, &["MessageStatus", "SmsStatus"])?);
    let error_code = match field(form, "ErrorCode").map(str::trim) {
        None | Some("") => None,
        Some(v) => Some(v.parse::<u32>().map_err(|_| ParseError::Invalid {
            field: "ErrorCode".to_owned(),
            value: v.to_owned(),
        })?),
    };
    Ok(StatusCallback {
        message_sid,
        status,
        error_code,
        raw: form.to_vec(),
    })
}
