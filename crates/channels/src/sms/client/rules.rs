//! What Twilio accepts in a message, checked before sending, and how it counts segments.
use url::Url;

use super::outcome::not_sent;
use super::{OutgoingSms, Sender, MAX_BODY_CHARS, MAX_MEDIA_URLS};
use crate::delivery::SendFailure;

/// Twilio doc: Messaging › "Message segments" — how many segments `body` is billed and paced
/// as: GSM-7 fits 160 septets (153 per part once split, an escaped character never split),
/// anything else is UCS-2 at 70 UTF-16 units (67 per part, a surrogate pair never split).
/// Japanese text is UCS-2. A media-only message still takes one send slot.
pub fn segments(body: &str) -> u32 {
    let gsm: Option<Vec<usize>> = body.chars().map(gsm7_septets).collect();
    let (costs, single, part): (Vec<usize>, usize, usize) = match gsm {
        Some(costs) => (costs, 160, 153),
        None => (body.chars().map(char::len_utf16).collect(), 70, 67),
    };
    let total: usize = costs.iter().sum();
    if total <= single {
        return 1;
    }
    let mut parts = 1u32;
    let mut used = 0;
    for cost in costs {
        if used + cost > part {
            parts += 1;
            used = 0;
        }
        used += cost;
    }
    parts
}

/// Septets of `c` in GSM 03.38 (1 basic, 2 via the extension table), `None` outside it.
fn gsm7_septets(c: char) -> Option<usize> {
    const BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?\
                         ¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
    const EXTENSION: &str = "\u{0c}^{}\\[~]|€";
    if BASIC.contains(c) {
        Some(1)
    } else if EXTENSION.contains(c) {
        Some(2)
    } else {
        None
    }
}

/// Refuses what Twilio would refuse, before anything leaves: `code` is Twilio's code for the
/// same refusal where it has one, so callers map both alike.
pub(super) fn validate(sms: &OutgoingSms) -> Result<(), SendFailure> {
    if !is_e164(&sms.to) {
        return Err(not_sent(
            Some("21211"),
            format!("invalid 'To' number {:?}: E.164 expected", sms.to),
        ));
    }
    match &sms.from {
        Sender::Number(n) if n.trim().is_empty() || (n.starts_with('+') && !is_e164(n)) => {
            return Err(not_sent(
                Some("21212"),
                format!("invalid 'From' number {n:?}"),
            ));
        }
        Sender::MessagingService(mg) if !is_sid(mg, "MG") => {
            return Err(not_sent(
                Some("21705"),
                format!("invalid Messaging Service SID {mg:?}"),
            ));
        }
        _ => {}
    }
    if sms.body.trim().is_empty() && sms.media_urls.is_empty() {
        return Err(not_sent(
            Some("21602"),
            "a message needs a body or media".into(),
        ));
    }
    let chars = sms.body.chars().count();
    if chars > MAX_BODY_CHARS {
        return Err(not_sent(
            Some("21617"),
            format!("body is {chars} characters, Twilio allows {MAX_BODY_CHARS}"),
        ));
    }
    if sms.media_urls.len() > MAX_MEDIA_URLS {
        return Err(not_sent(
            None,
            format!(
                "{} media URLs, Twilio allows {MAX_MEDIA_URLS}",
                sms.media_urls.len()
            ),
        ));
    }
    if let Some(bad) = sms.media_urls.iter().find(|u| !is_http_url(u)) {
        return Err(not_sent(
            Some("21620"),
            format!("invalid media URL {bad:?}"),
        ));
    }
    if let Some(cb) = sms.status_callback.as_deref().filter(|u| !is_http_url(u)) {
        return Err(not_sent(
            Some("21609"),
            format!("invalid status callback URL {cb:?}"),
        ));
    }
    Ok(())
}

pub(super) fn form(sms: &OutgoingSms) -> Vec<(&'static str, &str)> {
    let mut form = vec![("To", sms.to.as_str())];
    match &sms.from {
        Sender::Number(n) => form.push(("From", n)),
        Sender::MessagingService(mg) => form.push(("MessagingServiceSid", mg)),
    }
    if !sms.body.is_empty() {
        form.push(("Body", &sms.body));
    }
    form.extend(sms.media_urls.iter().map(|u| ("MediaUrl", u.as_str())));
    if let Some(cb) = &sms.status_callback {
        form.push(("StatusCallback", cb));
    }
    form
}

fn is_http_url(s: &str) -> bool {
    Url::parse(s).is_ok_and(|u| matches!(u.scheme(), "http" | "https") && u.has_host())
}

fn is_e164(s: &str) -> bool {
    s.strip_prefix('+').is_some_and(|d| {
        (2..=15).contains(&d.len()) && !d.starts_with('0') && d.bytes().all(|b| b.is_ascii_digit())
    })
}

fn is_sid(s: &str, prefix: &str) -> bool {
    s.len() == 34 && s.starts_with(prefix) && s[2..].bytes().all(|b| b.is_ascii_hexdigit())
}

pub(super) fn encode_segment(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
