//! Identifiers, dates and counts shaped like Twilio's.
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// A Twilio SID: two-letter prefix (`SM`, `MM`, `ME`, `MG`, `AC`) + 32 lowercase hex chars.
pub fn sid(prefix: &str) -> String {
    format!("{prefix}{}", Uuid::new_v4().simple())
}

/// True for `prefix` + 32 hex chars (Twilio's SID pattern, hex in either case).
pub fn is_sid(s: &str, prefix: &str) -> bool {
    s.len() == 34
        && s.starts_with(prefix)
        && s[prefix.len()..].chars().all(|c| c.is_ascii_hexdigit())
}

/// E.164: `+`, a non-zero digit, at most 15 digits in all.
pub fn is_e164(s: &str) -> bool {
    let Some(digits) = s.strip_prefix('+') else {
        return false;
    };
    (2..=15).contains(&digits.len())
        && !digits.starts_with('0')
        && digits.chars().all(|c| c.is_ascii_digit())
}

/// RFC 2822 in GMT as Twilio writes it: `Thu, 24 Aug 2023 05:01:45 +0000`.
pub fn rfc2822(at: DateTime<Utc>) -> String {
    at.format("%a, %d %b %Y %H:%M:%S +0000").to_string()
}

/// ISO country of a number, for the `FromCountry`/`ToCountry` webhook fields (the prefixes the
/// clinics' patients have; anything else is left empty, as Twilio does when it cannot tell).
pub fn country(number: &str) -> &'static str {
    const PREFIXES: [(&str, &str); 6] = [
        ("+81", "JP"),
        ("+1", "US"),
        ("+44", "GB"),
        ("+82", "KR"),
        ("+86", "CN"),
        ("+886", "TW"),
    ];
    PREFIXES
        .iter()
        .filter(|(p, _)| number.starts_with(p))
        .max_by_key(|(p, _)| p.len())
        .map_or("", |(_, c)| c)
}

/// GSM 03.38 basic character set (one septet each); the escape itself is left out.
const GSM_BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?\
¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
/// The extension table: two septets each (escape + char).
const GSM_EXTENDED: &str = "\u{0c}^{}\\[~]|€";

/// Segments Twilio bills for `body`: GSM-7 160 septets (153 per part when split), otherwise
/// UCS-2 70 UTF-16 units (67 per part). The sandbox's own count, independent of the adapter's.
pub fn num_segments(body: &str) -> u32 {
    if body.is_empty() {
        return 1;
    }
    let septets: Option<usize> = body
        .chars()
        .map(|c| {
            if GSM_BASIC.contains(c) {
                Some(1)
            } else if GSM_EXTENDED.contains(c) {
                Some(2)
            } else {
                None
            }
        })
        .sum();
    let (units, single, part) = match septets {
        Some(n) => (n, 160, 153),
        None => (body.encode_utf16().count(), 70, 67),
    };
    let parts = if units <= single {
        1
    } else {
        units.div_ceil(part)
    };
    u32::try_from(parts).unwrap_or(u32::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segments_follow_gsm7_and_ucs2_limits() {
        assert_eq!(num_segments(&"a".repeat(160)), 1);
        assert_eq!(num_segments(&"a".repeat(161)), 2);
        assert_eq!(num_segments(&"a".repeat(306)), 2);
        assert_eq!(num_segments(&"あ".repeat(70)), 1);
        assert_eq!(num_segments(&"あ".repeat(71)), 2);
        assert_eq!(num_segments(&"€".repeat(80)), 1);
        assert_eq!(num_segments(&"€".repeat(81)), 2);
    }

    #[test]
    fn e164_and_sids() {
        assert!(is_e164("+819012345678"));
        assert!(!is_e164("09012345678"));
        assert!(!is_e164("+0123"));
        assert!(is_sid(&sid("SM"), "SM"));
        assert!(!is_sid("SM123", "SM"));
    }
}
