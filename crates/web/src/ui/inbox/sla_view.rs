//! The service-level badges (返信期限 / 解決期限) on inbox rows and the conversation's state bar:
//! the words as they stand when the page renders, and the instants `static/sla.js` needs to
//! turn them amber or red without a reload (`data-sla-warn`, `data-sla-due`, the server's
//! `data-sla-now`, and the words with `{time}` / `{duration}` to fill in).
use serde::Serialize;
use tsunagu_inbox::sla::{Clock, Kind, Level, ServiceLevel};

use super::view::Zone;
use crate::i18n;

/// One running clock as shown.
#[derive(Clone, Debug, Serialize)]
pub struct SlaBadge {
    /// first_response | resolution
    pub kind: &'static str,
    /// ok | warning | breached
    pub level: &'static str,
    pub text: String,
    /// The deadline in full, for the tooltip: `返信期限 2026/12/08(火) 09:05`.
    pub title: String,
    pub warn_at: Option<i64>,
    pub due_at: i64,
    /// The deadline's time as the list shows times (`14:30`, `12/08 09:05`).
    pub due_label: String,
    pub now: i64,
    /// Kept out of sight while calm (the list's resolution clock beside a running first-response
    /// clock: one badge a row is enough until this one needs attention).
    pub quiet: bool,
    /// The words per level, with `{time}` and `{duration}` (the script fills them in).
    pub words_ok: String,
    pub words_warning: String,
    pub words_breached: String,
}

/// The words for durations the script uses: `{m}分`, `{h}時間{m}分`, `{h}時間`, `{d}日`.
#[derive(Clone, Debug, Serialize)]
pub struct DurationWords {
    pub minutes: String,
    pub hours_minutes: String,
    pub hours: String,
    pub days: String,
}

pub fn duration_words(lang: &str) -> DurationWords {
    DurationWords {
        minutes: i18n::text(lang, "sla.duration.minutes"),
        hours_minutes: i18n::text(lang, "sla.duration.hours_minutes"),
        hours: i18n::text(lang, "sla.duration.hours"),
        days: i18n::text(lang, "sla.duration.days"),
    }
}

/// The badges of the clocks running (none: `sl` is `None`), both shown (the conversation page).
pub fn badges(lang: &str, zone: &Zone, sl: Option<&ServiceLevel>, now_ms: i64) -> Vec<SlaBadge> {
    sl.map(|sl| sl.clocks().map(|c| badge(lang, zone, c, now_ms)).collect())
        .unwrap_or_default()
}

/// For an inbox row: while the patient waits for a reply, the calm resolution clock stays out
/// of sight (`static/sla.js` shows it once it turns amber).
pub fn row_badges(
    lang: &str,
    zone: &Zone,
    sl: Option<&ServiceLevel>,
    now_ms: i64,
) -> Vec<SlaBadge> {
    let waiting = sl.is_some_and(|sl| sl.first_response.is_some());
    let mut out = badges(lang, zone, sl, now_ms);
    for b in out.iter_mut() {
        b.quiet = waiting && b.kind == Kind::Resolution.as_str();
    }
    out
}

fn badge(lang: &str, zone: &Zone, c: &Clock, now_ms: i64) -> SlaBadge {
    let kind = c.kind.as_str();
    let due = c.due_at.timestamp_millis();
    let words = |level: &str| i18n::text(lang, &format!("sla.badge.{kind}.{level}"));
    let due_label = zone.label(due, now_ms);
    let (words_ok, words_warning, words_breached) =
        (words("ok"), words("warning"), words("breached"));
    let text = match c.level {
        Level::Ok => words_ok.replace("{time}", &due_label),
        Level::Warning => words_warning.replace("{duration}", &duration(lang, due - now_ms)),
        Level::Breached => words_breached.replace("{duration}", &duration(lang, now_ms - due)),
    };
    SlaBadge {
        kind,
        level: c.level.as_str(),
        text,
        title: format!(
            "{} {}",
            i18n::text(lang, &format!("sla.kind.{kind}")),
            zone.long_label(lang, due)
        ),
        warn_at: c.warn_at.map(|t| t.timestamp_millis()),
        due_at: due,
        due_label,
        now: now_ms,
        quiet: false,
        words_ok,
        words_warning,
        words_breached,
    }
}

/// A wall-clock span in words, rounded up to the minute (as `static/sla.js` does).
pub fn duration(lang: &str, ms: i64) -> String {
    let m = (ms.max(0) + 59_999) / 60_000;
    let m = m.max(1);
    let w = duration_words(lang);
    if m < 60 {
        w.minutes.replace("{m}", &m.to_string())
    } else if m < 24 * 60 {
        let (h, r) = (m / 60, m % 60);
        if r == 0 {
            w.hours.replace("{h}", &h.to_string())
        } else {
            w.hours_minutes
                .replace("{h}", &h.to_string())
                .replace("{m}", &r.to_string())
        }
    } else {
        w.days.replace("{d}", &(m / (24 * 60)).to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::duration;

    #[test]
    fn durations_read_in_japanese() {
        assert_eq!(duration("ja", 8 * 60_000), "8分");
        assert_eq!(duration("ja", 8 * 60_000 - 30_000), "8分");
        assert_eq!(duration("ja", 0), "1分");
        assert_eq!(duration("ja", 125 * 60_000), "2時間5分");
        assert_eq!(duration("ja", 120 * 60_000), "2時間");
        assert_eq!(duration("ja", 3 * 24 * 60 * 60_000 + 5), "3日");
    }
}
