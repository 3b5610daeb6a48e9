//! Why an input was refused: a stable snake_case code the ja/en catalogs translate.
use serde::Serialize;

/// A value that did not parse, with its stable error key (`invalid_phone_number`, …).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Invalid(pub &'static str);

impl Invalid {
    pub fn code(self) -> &'static str {
        self.0
    }
}

/// One refused field of a patient, a custom field value or a CSV cell.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// `phone`, `birth_date`, a custom field key, or a CSV column as written in the header.
    pub field: String,
    pub code: &'static str,
    /// A short English explanation for developers; staff see the translated code.
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, code: &'static str, message: impl Into<String>) -> Self {
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

/// The English explanation of an error key.
pub fn message_for(code: &str) -> &'static str {
    match code {
        "invalid_phone_number" => "Not a phone number: Japanese numbers like 090-1234-5678, others with + and the country code.",
        "invalid_email" => "Not an e-mail address.",
        "invalid_birth_date" => "Not a birth date: YYYY-MM-DD or a Japanese era date like S50.4.1, not in the future.",
        "invalid_kana" => "The reading must be kana (katakana or hiragana).",
        "invalid_card_number" => "A card number is 1 to 20 letters and digits.",
        "invalid_sex" => "Sex is female, male, other or unknown.",
        "invalid_language" => "Not a language code such as ja or en.",
        "invalid_channel" => "Not a channel: line, sms, email, phone, whatsapp, messenger or webchat.",
        "name_required" => "A name is required.",
        "too_long" => "The text is too long.",
        "invalid_tag" => "A tag is 1 to 50 characters without ; or 、.",
        "too_many_tags" => "At most 30 tags.",
        "duplicate_card_number" => "Another patient of this clinic has this card number.",
        "unknown_field" => "This clinic has no custom field with that key.",
        "field_required" => "This field is required.",
        "invalid_number" => "Not a number.",
        "invalid_date" => "Not a date (YYYY-MM-DD).",
        "invalid_choice" => "Not one of the field's choices.",
        _ => "Not valid.",
    }
}
