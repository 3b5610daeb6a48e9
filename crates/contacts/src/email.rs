//! E-mail addresses, checked the way a clinic needs: one `@`, a domain with a dot, no spaces.
//! Full-width letters typed with a Japanese input method are folded to ASCII.
use serde::Serialize;
use tsunagu_core::text::fold_width;
use tsunagu_core::Code;

use crate::Invalid;

const INVALID: Invalid = Invalid(Code::InvalidEmail);

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    /// The domain is lower-cased; the local part is kept as written.
    pub fn parse(s: &str) -> Result<Self, Invalid> {
        let s = fold_width(s.trim());
        if s.len() > 254 || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(INVALID);
        }
        let (local, domain) = s.rsplit_once('@').ok_or(INVALID)?;
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && !local.contains('@')
            && !local.starts_with('.')
            && !local.ends_with('.')
            && local.is_ascii();
        let labels: Vec<&str> = domain.split('.').collect();
        let domain_ok = labels.len() >= 2
            && labels.iter().all(|l| {
                !l.is_empty()
                    && l.len() <= 63
                    && !l.starts_with('-')
                    && !l.ends_with('-')
                    && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            });
        if !(local_ok && domain_ok) {
            return Err(INVALID);
        }
        Ok(Email(format!("{local}@{}", domain.to_ascii_lowercase())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_keeps_its_local_part_and_lower_cases_its_domain() {
        let e = Email::parse(" Hanako.Yamada+clinic@Example.JP ").map(|e| e.as_str().to_string());
        assert_eq!(e.as_deref(), Ok("Hanako.Yamada+clinic@example.jp"));
    }

    #[test]
    fn a_full_width_address_typed_in_japanese_input_is_folded() {
        let e = Email::parse("ｈａｎａｋｏ＠ｅｘａｍｐｌｅ．ｊｐ").map(|e| e.as_str().to_string());
        assert_eq!(e.as_deref(), Ok("hanako@example.jp"));
    }

    #[test]
    fn addresses_without_at_domain_or_with_spaces_are_refused() {
        for bad in [
            "",
            "hanako",
            "hanako@",
            "@example.jp",
            "hanako@localhost",
            "a b@example.jp",
            "a@b@c.jp",
            "hanako@example..jp",
            "山田@example.jp",
        ] {
            assert_eq!(Email::parse(bad), Err(Invalid(Code::InvalidEmail)), "{bad}");
        }
    }
}
