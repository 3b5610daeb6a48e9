//! Phone numbers in E.164. Japanese clinics and patients write national numbers
//! (`090-1234-5678`, `03-1234-5678`, often in full-width digits); other countries need `+`.
use serde::Serialize;
use tsunagu_core::text::fold_width;
use tsunagu_core::Code;

use crate::Invalid;

const INVALID: Invalid = Invalid(Code::InvalidPhoneNumber);

/// A phone number as `+` and 8–15 digits, e.g. `+819012345678`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(transparent)]
pub struct PhoneE164(String);

impl PhoneE164 {
    /// Reads a number as people write it: separators (spaces, hyphens of every width, dots,
    /// parentheses) are ignored; a number starting with 0 is Japanese.
    pub fn parse(s: &str) -> Result<Self, Invalid> {
        let folded = fold_width(s.trim());
        let (plus, digits) = match folded.strip_prefix('+') {
            Some(rest) => (true, rest),
            None => (false, folded.as_str()),
        };
        let mut d = String::with_capacity(digits.len());
        for c in digits.chars() {
            match c {
                '0'..='9' => d.push(c),
                ' ' | '-' | '.' | '(' | ')' | '\u{2010}'..='\u{2015}' | '\u{2212}' | 'ー' => {}
                _ => return Err(INVALID),
            }
        }
        if plus {
            match d.strip_prefix("81") {
                // `+81 090…`: the trunk 0 written after the country code is dropped.
                Some(national) => japanese(national.strip_prefix('0').unwrap_or(national)),
                None => international(&d),
            }
        } else {
            match d.strip_prefix('0') {
                Some(national) if !national.starts_with('0') => japanese(national),
                _ => Err(INVALID),
            }
        }
    }

    /// The stored form, `+819012345678`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Wraps a value read back from our own database.
    pub fn from_db(s: String) -> Self {
        Self(s)
    }

    /// A Japanese number as staff write it (`090-1234-5678`, `03-1234-5678`, `0120-123-456`);
    /// other numbers in E.164.
    pub fn display(&self) -> String {
        let Some(n) = self.0.strip_prefix("+81") else {
            return self.0.clone();
        };
        let national = format!("0{n}");
        let groups: &[usize] = match national.len() {
            11 => &[3, 4, 4],
            10 if national.starts_with("0120") || national.starts_with("0570") => &[4, 3, 3],
            10 if national.starts_with("03") || national.starts_with("06") => &[2, 4, 4],
            _ => return national,
        };
        let mut out = Vec::new();
        let mut rest = national.as_str();
        for g in groups {
            let (head, tail) = rest.split_at((*g).min(rest.len()));
            out.push(head);
            rest = tail;
        }
        out.join("-")
    }
}

/// A name as staff read it: a patient known only by their number (an SMS sender, whose name is
/// the number the provider gave) is shown in the national format (`090-1234-5678`); any other
/// name as it is.
pub fn display_name(name: &str) -> String {
    let t = name.trim();
    let digits = t.strip_prefix('+').unwrap_or("");
    if (8..=15).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) {
        PhoneE164(t.to_owned()).display()
    } else {
        name.to_owned()
    }
}

impl std::fmt::Display for PhoneE164 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The national significant number (without the trunk 0) of a Japanese number.
fn japanese(nsn: &str) -> Result<PhoneE164, Invalid> {
    // Mobile, IP phone, M2M and 0800 numbers are 11 digits with the 0; the rest 10.
    let eleven = ["50", "60", "70", "80", "90", "20", "800"]
        .iter()
        .any(|p| nsn.starts_with(p));
    let want = if eleven { 10 } else { 9 };
    if nsn.len() != want || nsn.starts_with('0') {
        return Err(INVALID);
    }
    Ok(PhoneE164(format!("+81{nsn}")))
}

fn international(digits: &str) -> Result<PhoneE164, Invalid> {
    if !(8..=15).contains(&digits.len()) || digits.starts_with('0') {
        return Err(INVALID);
    }
    Ok(PhoneE164(format!("+{digits}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e164(s: &str) -> Option<String> {
        PhoneE164::parse(s).ok().map(|p| p.as_str().to_string())
    }

    #[test]
    fn a_patient_named_by_their_number_is_shown_in_the_national_format() {
        assert_eq!(display_name("+819012345678"), "090-1234-5678");
        assert_eq!(display_name("+81312345678"), "03-1234-5678");
        assert_eq!(display_name("+14155550123"), "+14155550123");
        assert_eq!(display_name("山田 花子"), "山田 花子");
        assert_eq!(display_name("+81 hello"), "+81 hello");
        assert_eq!(display_name("+81"), "+81");
    }

    #[test]
    fn a_phone_number_without_country_code_is_read_as_japanese() {
        assert_eq!(e164("090-1234-5678").as_deref(), Some("+819012345678"));
        assert_eq!(e164("03-1234-5678").as_deref(), Some("+81312345678"));
        assert_eq!(e164("(0467) 12-3456").as_deref(), Some("+81467123456"));
        assert_eq!(e164("0120-123-456").as_deref(), Some("+81120123456"));
    }

    #[test]
    fn full_width_digits_and_japanese_dashes_are_read() {
        assert_eq!(
            e164("０９０１２３４５６７８").as_deref(),
            Some("+819012345678")
        );
        assert_eq!(
            e164("０９０ー１２３４ー５６７８").as_deref(),
            Some("+819012345678")
        );
        assert_eq!(e164("090−1234−5678").as_deref(), Some("+819012345678"));
    }

    #[test]
    fn a_number_with_plus_81_is_japanese_even_with_the_trunk_zero() {
        assert_eq!(e164("+81 90-1234-5678").as_deref(), Some("+819012345678"));
        assert_eq!(e164("+81 090 1234 5678").as_deref(), Some("+819012345678"));
        assert_eq!(
            e164("＋８１３１２３４５６７８").as_deref(),
            Some("+81312345678")
        );
    }

    #[test]
    fn other_countries_need_a_plus() {
        assert_eq!(e164("+1 415 555 2671").as_deref(), Some("+14155552671"));
        assert_eq!(e164("+44 20 7946 0958").as_deref(), Some("+442079460958"));
        assert!(e164("14155552671").is_none());
    }

    #[test]
    fn junk_and_wrong_lengths_are_refused_with_a_clear_key() {
        for bad in [
            "",
            "abc",
            "090-1234-567",
            "090-1234-56789",
            "03-1234-56789",
            "00-1234-5678",
            "+1 23",
            "090 1234 5678 内線2",
        ] {
            assert_eq!(
                PhoneE164::parse(bad),
                Err(Invalid(Code::InvalidPhoneNumber)),
                "{bad}"
            );
        }
    }

    #[test]
    fn japanese_numbers_are_shown_with_hyphens() {
        let show = |s: &str| PhoneE164::parse(s).map(|p| p.display()).unwrap_or_default();
        assert_eq!(show("09012345678"), "090-1234-5678");
        assert_eq!(show("0312345678"), "03-1234-5678");
        assert_eq!(show("0120123456"), "0120-123-456");
        assert_eq!(show("0467123456"), "0467123456");
        assert_eq!(show("+14155552671"), "+14155552671");
    }
}
