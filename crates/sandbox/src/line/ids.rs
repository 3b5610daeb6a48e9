//! Identifiers and media the sandbox makes up, shaped like LINE's.
use uuid::Uuid;

const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A ULID (26 Crockford base32 chars: 48-bit ms time + 80 random bits), like `webhookEventId`.
pub fn ulid(now_ms: i64) -> String {
    let time = u128::try_from(now_ms.max(0)).unwrap_or(0) & ((1 << 48) - 1);
    let random = Uuid::new_v4().as_u128() & ((1 << 80) - 1);
    let value = (time << 80) | random;
    (0..26)
        .rev()
        .map(|i| char::from(CROCKFORD[((value >> (i * 5)) & 31) as usize]))
        .collect()
}

/// A fresh `X-Line-Request-Id` (LINE sends a UUID).
pub fn request_id() -> String {
    Uuid::new_v4().to_string()
}

/// A reply token: 32 hex chars, unguessable.
pub fn reply_token() -> String {
    Uuid::new_v4().simple().to_string()
}

/// A quote token for a sent or received message.
pub fn quote_token() -> String {
    format!("q{}", Uuid::new_v4().simple())
}

/// A mark-as-read token for a received message: opaque, unguessable.
pub fn mark_as_read_token() -> String {
    format!("m{}", Uuid::new_v4().simple())
}

/// A user id as LINE issues them: 'U' + 32 lowercase hex chars.
pub fn user_id() -> String {
    format!("U{}", Uuid::new_v4().simple())
}

/// True for a LINE user ('U'), group ('C') or room ('R') id.
pub fn is_line_id(s: &str, prefixes: &[char]) -> bool {
    let mut chars = s.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    prefixes.contains(&first)
        && s.len() == 33
        && chars.all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ulids_are_26_crockford_chars_and_sort_by_time() {
        let a = ulid(1_700_000_000_000);
        let b = ulid(1_700_000_000_001);
        assert_eq!(a.len(), 26);
        assert!(a.bytes().all(|c| CROCKFORD.contains(&c)));
        assert!(a < b);
    }

    #[test]
    fn user_ids_look_like_lines() {
        assert!(is_line_id(&user_id(), &['U']));
        assert!(!is_line_id("U123", &['U']));
        assert!(!is_line_id(&format!("C{}", &user_id()[1..]), &['U']));
    }
}
