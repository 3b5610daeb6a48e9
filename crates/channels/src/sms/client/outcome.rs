//! What an answer from the Messages API comes to, in the shared delivery terms.
use reqwest::header::HeaderMap;
use reqwest::StatusCode;
use serde::Deserialize;

use crate::delivery::{retry_after, SendFailure, Sent};

/// Twilio's error body: `{code, message, more_info, status}`.
#[derive(Deserialize, Default)]
struct ErrorBody {
    code: Option<u64>,
    #[serde(default)]
    message: String,
}

#[derive(Deserialize)]
struct Created {
    sid: String,
    status: Option<String>,
}

/// Twilio doc: API › "Errors" and Messaging › "Rate limits": 429 or code 20429 is a rate limit,
/// a 503 with `Retry-After` was not executed; any other 5xx may have been; 4xx is for good.
pub(super) fn classify(
    status: StatusCode,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Sent, SendFailure> {
    let code_u16 = status.as_u16();
    if status.is_success() {
        return match serde_json::from_slice::<Created>(body) {
            Ok(c) if !c.sid.is_empty() => Ok(Sent {
                provider_message_id: c.sid,
                status: c.status,
            }),
            _ => Err(SendFailure::InDoubt {
                message: format!(
                    "Twilio accepted the message ({status}) but its answer carried no sid"
                ),
            }),
        };
    }
    let err: ErrorBody = serde_json::from_slice(body).unwrap_or_default();
    let code = err.code.map(|c| c.to_string());
    let detail = if err.message.is_empty() {
        status.to_string()
    } else {
        err.message
    };
    let message = match &code {
        Some(c) => format!("Twilio error {c}: {detail}"),
        None => format!("Twilio answered {status}: {detail}"),
    };
    let wait = retry_after(headers);
    match code_u16 {
        429 => Err(SendFailure::Retry {
            status: Some(code_u16),
            code,
            message,
            retry_after: wait,
        }),
        _ if err.code == Some(20429) => Err(SendFailure::Retry {
            status: Some(code_u16),
            code,
            message,
            retry_after: wait,
        }),
        503 if wait.is_some() => Err(SendFailure::Retry {
            status: Some(code_u16),
            code,
            message,
            retry_after: wait,
        }),
        400..=499 => Err(SendFailure::Rejected {
            status: code_u16,
            code,
            message,
        }),
        _ => Err(SendFailure::InDoubt {
            message: format!("{message}; it may have been sent"),
        }),
    }
}

/// Refused before sending (status 0, as for LINE's client).
pub(super) fn not_sent(code: Option<&str>, message: String) -> SendFailure {
    SendFailure::Rejected {
        status: 0,
        code: code.map(str::to_owned),
        message: format!("request not sent: {message}"),
    }
}

/// A download that failed in transport: safe to try again.
pub(super) fn fetch_retry(status: Option<u16>, e: &reqwest::Error) -> SendFailure {
    if let Some(refused) = SendFailure::refused("Twilio", e) {
        return refused;
    }
    SendFailure::Retry {
        status,
        code: None,
        message: format!("media download from Twilio failed: {e}"),
        retry_after: None,
    }
}
