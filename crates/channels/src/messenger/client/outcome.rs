//! Meta's error answers classified into [`SendFailure`]: retry, reject for good, or in doubt.
use bytes::Bytes;
use reqwest::header::HeaderMap;
use reqwest::StatusCode;
use serde::Deserialize;

use crate::delivery::{retry_after, SendFailure};

#[derive(Deserialize, Default)]
struct ErrorBody {
    #[serde(default)]
    error: GraphError,
}

/// Meta doc: Graph API › "Handling errors" (`message`, `type`, `code`, `error_subcode`,
/// `is_transient`, `fbtrace_id`).
#[derive(Deserialize, Default)]
struct GraphError {
    #[serde(default)]
    message: String,
    code: Option<i64>,
    error_subcode: Option<i64>,
    #[serde(default)]
    is_transient: bool,
    fbtrace_id: Option<String>,
}

/// Meta doc: Graph API › Rate limiting (4 app, 17 user, 32 page, 613 custom, 80006 Messenger).
const RATE_LIMIT_CODES: [i64; 5] = [4, 17, 32, 613, 80006];

/// Meta doc: Messenger Platform › "Common error codes". A non-2xx answer becomes a failure:
/// throttling, code 1/2 and `is_transient` → `Retry` (Meta did not execute it); another 5xx →
/// `InDoubt`; any other 4xx → `Rejected` with `code` as `"10/2018278"` or `"551"`.
pub(crate) fn classify(status: StatusCode, headers: &HeaderMap, body: &Bytes) -> SendFailure {
    let err = serde_json::from_slice::<ErrorBody>(body)
        .unwrap_or_default()
        .error;
    let code = err.code.map(|c| match err.error_subcode {
        Some(sub) => format!("{c}/{sub}"),
        None => c.to_string(),
    });
    let http = status.as_u16();
    let raw_message = if err.message.is_empty() {
        status.to_string()
    } else {
        err.message.clone()
    };
    let trace = err
        .fbtrace_id
        .as_deref()
        .map(|t| format!(" (fbtrace_id {t})"))
        .unwrap_or_default();
    let retryable = http == 429
        || err.is_transient
        || err
            .code
            .is_some_and(|c| RATE_LIMIT_CODES.contains(&c) || c == 1 || c == 2);
    if retryable {
        return SendFailure::Retry {
            status: Some(http),
            code,
            message: format!("Messenger asks to try again later: {raw_message}{trace}"),
            retry_after: retry_after(headers),
        };
    }
    if status.is_server_error() {
        return SendFailure::InDoubt {
            message: format!(
                "Messenger answered {http}; the message may have been delivered: {raw_message}{trace}"
            ),
        };
    }
    let meaning = explain(err.code, err.error_subcode);
    SendFailure::Rejected {
        status: http,
        code,
        message: format!("{meaning}: {raw_message}{trace}"),
    }
}

/// What a refusal means for staff, by Meta's code and subcode.
fn explain(code: Option<i64>, subcode: Option<i64>) -> &'static str {
    match (code, subcode) {
        (Some(10), Some(2018278)) => {
            "Messenger refused: outside the allowed window (24 hours, or 7 days for a staff reply)"
        }
        (Some(10), _) | (Some(200..=299), _) => {
            "Messenger refused: the page or app lacks the permission for this message"
        }
        (Some(551), _) => {
            "Messenger refused: this person is not available (blocked the page or left)"
        }
        (Some(100), _) => "Messenger refused the request as invalid",
        (Some(190), _) => "Messenger refused the page access token (expired or revoked)",
        _ => "Messenger refused the request",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(status: u16, body: &str) -> SendFailure {
        classify(
            StatusCode::from_u16(status).unwrap_or(StatusCode::IM_A_TEAPOT),
            &HeaderMap::new(),
            &Bytes::from(body.to_owned()),
        )
    }

    #[test]
    fn the_window_error_is_rejected_with_code_and_subcode() {
        let f = run(
            400,
            r#"{"error":{"message":"(#10) This message is sent outside of allowed window.","type":"OAuthException","code":10,"error_subcode":2018278,"fbtrace_id":"A1"}}"#,
        );
        assert!(matches!(&f, SendFailure::Rejected { status: 400, .. }));
        assert_eq!(f.code(), Some("10/2018278"));
        assert!(f.to_string().contains("outside the allowed window"));
        assert!(f.to_string().contains("A1"));
    }

    #[test]
    fn throttling_codes_and_transient_errors_are_retried() {
        for body in [
            r#"{"error":{"message":"Calls to this api have exceeded the rate limit.","code":613}}"#,
            r#"{"error":{"message":"Application request limit reached","code":4}}"#,
            r#"{"error":{"message":"x","code":80006}}"#,
            r#"{"error":{"message":"x","code":1200,"is_transient":true}}"#,
        ] {
            assert!(
                matches!(run(400, body), SendFailure::Retry { .. }),
                "{body}"
            );
        }
        assert!(matches!(run(429, ""), SendFailure::Retry { .. }));
        assert!(matches!(
            run(
                500,
                r#"{"error":{"message":"An unexpected error has occurred.","code":2}}"#
            ),
            SendFailure::Retry { .. }
        ));
    }

    #[test]
    fn an_ambiguous_5xx_is_in_doubt_and_other_4xx_are_rejected() {
        assert!(matches!(run(502, "<html>"), SendFailure::InDoubt { .. }));
        let f = run(
            400,
            r#"{"error":{"message":"(#551) This person isn't available right now.","code":551}}"#,
        );
        assert_eq!(f.code(), Some("551"));
        assert!(matches!(
            run(403, "{}"),
            SendFailure::Rejected { code: None, .. }
        ));
    }
}
