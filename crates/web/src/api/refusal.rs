//! The HTTP status of each stable code, written once: `impl From<Refusal> for ApiError` and the
//! staff pages' `PageError` both ask here. A refusal is 422 unless listed.
use axum::http::StatusCode;
use tsunagu_core::{Code, Refusal};

pub fn status(code: Code) -> StatusCode {
    use Code::*;
    match code {
        BadRequest | MalformedJson | InvalidIdempotencyKey => StatusCode::BAD_REQUEST,
        Unauthorized => StatusCode::UNAUTHORIZED,
        Forbidden | ScopeForbidsPurpose | PurposeNotAllowed | Csrf => StatusCode::FORBIDDEN,
        NotFound => StatusCode::NOT_FOUND,
        MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
        // The state says no: what exists already, or changed since the client looked.
        ClosureExists
        | TemplateExists
        | CannedShortcutExists
        | IdempotencyKeyInProgress
        | ImportPlanChanged
        | AlreadyLinked
        | AlreadyUndone
        | NotLatestLink
        | EnrollmentNotActive => StatusCode::CONFLICT,
        PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        Internal => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    }
}

/// The API's `message` for a refusal: its English detail, else its code's English text.
pub fn message(r: &Refusal) -> String {
    match &r.detail {
        Some(d) => d.clone(),
        None => crate::i18n::refusal("en", r),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::ApiError;

    #[test]
    fn a_refusal_keeps_its_code_and_gets_its_status_once() {
        let e = ApiError::from(Refusal::new(Code::ClosureExists).detail("closed on 2027-01-01"));
        assert_eq!(
            (e.status, e.code, e.message.as_str()),
            (
                StatusCode::CONFLICT,
                Code::ClosureExists,
                "closed on 2027-01-01"
            )
        );
        let e = ApiError::from(Refusal::new(Code::RecipientOptedOut));
        assert_eq!(e.status, StatusCode::UNPROCESSABLE_ENTITY);
        // Without a detail the message is the code's English text.
        assert_eq!(e.message, crate::i18n::code("en", Code::RecipientOptedOut));
        assert_eq!(ApiError::forbidden().status, StatusCode::FORBIDDEN);
        assert_eq!(ApiError::not_found().code, Code::NotFound);
    }

    #[test]
    fn the_outbound_guard_s_code_is_a_code() {
        assert_eq!(
            Code::parse(tsunagu_channels::outbound::REFUSED_CODE),
            Some(Code::OutboundAddressRefused)
        );
    }
}
