//! Why an input was refused: a stable code (`tsunagu_core::Code`) the ja/en catalogs translate.
use serde::Serialize;
use tsunagu_core::{Code, Refusal};

/// A value that did not parse, with its stable code (`invalid_phone_number`, …).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Invalid(pub Code);

impl Invalid {
    pub fn code(self) -> Code {
        self.0
    }
}

impl From<Invalid> for Refusal {
    fn from(e: Invalid) -> Refusal {
        Refusal::new(e.0).detail(message_for(e.0))
    }
}

/// One refused field of a patient, a custom field value or a CSV cell.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// `phone`, `birth_date`, a custom field key, or a CSV column as written in the header.
    pub field: String,
    pub code: Code,
    /// A short English explanation for developers; staff see the translated code.
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, code: Code, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            code,
            message: message.into(),
        }
    }

    pub fn from_invalid(field: impl Into<String>, e: Invalid) -> Self {
        Self::new(field, e.0, message_for(e.0))
    }
}

/// The English explanation of a field's code, for developers.
pub fn message_for(code: Code) -> &'static str {
    match code {
        Code::InvalidPhoneNumber => "Not a phone number: Japanese numbers like 090-1234-5678, others with + and the country code.",
        Code::InvalidEmail => "Not an e-mail address.",
        Code::InvalidBirthDate => "Not a birth date: YYYY-MM-DD or a Japanese era date like S50.4.1, not in the future.",
        Code::InvalidKana => "The reading must be kana (katakana or hiragana).",
        Code::InvalidCardNumber => "A card number is 1 to 20 letters and digits.",
        Code::InvalidSex => "Sex is female, male, other or unknown.",
        Code::InvalidLanguage => "Not a language code such as ja or en.",
        Code::InvalidChannel => "Not a channel: line, sms, email, phone, whatsapp, messenger or webchat.",
        Code::NameRequired => "A name is required.",
        Code::TooLong => "The text is too long.",
        Code::InvalidTag => "A tag is 1 to 50 characters without ; or 、.",
        Code::TooManyTags => "At most 30 tags.",
        Code::DuplicateCardNumber => "Another patient of this clinic has this card number.",
        Code::UnknownField => "This clinic has no custom field with that key.",
        Code::FieldRequired => "This field is required.",
        Code::InvalidNumber => "Not a number.",
        Code::InvalidDate => "Not a date (YYYY-MM-DD).",
        Code::InvalidChoice => "Not one of the field's choices.",
        _ => "Not valid.",
    }
}
