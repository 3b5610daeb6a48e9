//! "Refused, for a reason staff or an API client can act on": the one shape every domain crate
//! returns for it (`anyhow::Result<Result<T, Refusal>>`, or a `Refused` arm), mapped to an API
//! error and to page text once, in `web`.
use serde::Serialize;

use crate::code::Code;

/// A refusal: its stable code, an English detail for developers (the API's `message`; staff
/// read the code's catalog text instead), and the values that text names in braces.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Refusal {
    pub code: Code,
    /// A short English explanation with specifics ("limit must be between 1 and 100."). Never
    /// patient data or a provider's words. `None`: the catalog's English text is the message.
    pub detail: Option<String>,
    /// Values for `{name}` in the catalog text, e.g. `max` for `message_too_long`.
    pub args: Vec<(&'static str, Arg)>,
}

/// A value the catalog text names: shown as is, or itself a catalog key (a purpose's name), so
/// each reader gets it in their language.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Arg {
    Text(String),
    Key(String),
}

impl Refusal {
    pub fn new(code: Code) -> Refusal {
        Refusal {
            code,
            detail: None,
            args: Vec::new(),
        }
    }

    /// With an English detail for developers.
    pub fn detail(mut self, detail: impl Into<String>) -> Refusal {
        self.detail = Some(detail.into());
        self
    }

    /// With a value shown as is for `{name}`.
    pub fn arg(mut self, name: &'static str, value: impl ToString) -> Refusal {
        self.args.push((name, Arg::Text(value.to_string())));
        self
    }

    /// With a catalog key whose text is shown for `{name}`.
    pub fn arg_key(mut self, name: &'static str, key: impl Into<String>) -> Refusal {
        self.args.push((name, Arg::Key(key.into())));
        self
    }
}

impl From<Code> for Refusal {
    fn from(code: Code) -> Refusal {
        Refusal::new(code)
    }
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.detail {
            Some(d) => write!(f, "{}: {d}", self.code),
            None => write!(f, "{}", self.code),
        }
    }
}

impl std::error::Error for Refusal {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_reads_as_its_code_and_detail() {
        let r = Refusal::new(Code::MessageTooLong)
            .detail("at most 1600 characters")
            .arg("max", 1600);
        assert_eq!(r.to_string(), "message_too_long: at most 1600 characters");
        assert_eq!(r.args, vec![("max", Arg::Text("1600".into()))]);
        assert_eq!(Refusal::from(Code::NotFound).to_string(), "not_found");
    }
}
