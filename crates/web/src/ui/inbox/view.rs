//! Pure helpers that turn rows into what the templates show: times in the clinic's zone,
//! names with sensible fallbacks, translated channel and preview labels.
use chrono::{Datelike, TimeZone};
use chrono_tz::Tz;
use tsunagu_core::clock::from_ms;
use tsunagu_store::clinics::Clinic;
use tsunagu_store::conversations::Message;

use super::messages::MessageView;
use crate::i18n;

/// The clinic's time zone (Tokyo when the stored name is not one chrono-tz knows).
#[derive(Clone, Copy, Debug)]
pub struct Zone(Tz);

impl Zone {
    pub fn of(clinic: &Clinic) -> Self {
        Zone(clinic.timezone.parse().unwrap_or(chrono_tz::Asia::Tokyo))
    }

    /// `09:41` today, `11/22 18:03` earlier this year, `2025/12/31 23:59` before that.
    pub fn label(&self, ms: i64, now_ms: i64) -> String {
        let t = self.0.from_utc_datetime(&from_ms(ms).naive_utc());
        let now = self.0.from_utc_datetime(&from_ms(now_ms).naive_utc());
        let fmt = if t.date_naive() == now.date_naive() {
            "%H:%M"
        } else if t.year() == now.year() {
            "%m/%d %H:%M"
        } else {
            "%Y/%m/%d %H:%M"
        };
        t.format(fmt).to_string()
    }

    /// `2026/12/08(火) 09:00` (`Tue 2026/12/08 09:00` in English): a time staff chose ahead.
    pub fn long_label(&self, lang: &str, ms: i64) -> String {
        const JA: [&str; 7] = ["月", "火", "水", "木", "金", "土", "日"];
        let t = self.0.from_utc_datetime(&from_ms(ms).naive_utc());
        let day = t.weekday().num_days_from_monday() as usize;
        if lang == "ja" {
            format!(
                "{}({}) {}",
                t.format("%Y/%m/%d"),
                JA[day],
                t.format("%H:%M")
            )
        } else {
            t.format("%a %Y/%m/%d %H:%M").to_string()
        }
    }

    /// `("2026-12-08", "09:00")`, clinic-local, as date and time inputs take them.
    pub fn date_time(&self, ms: i64) -> (String, String) {
        let t = self.0.from_utc_datetime(&from_ms(ms).naive_utc());
        (
            t.format("%Y-%m-%d").to_string(),
            t.format("%H:%M").to_string(),
        )
    }

    /// A clinic-local date (`YYYY-MM-DD`) and time (`HH:MM`) as epoch ms; `None` when they do
    /// not read or name no instant (a gap at a clock change).
    pub fn parse_local(&self, date: &str, time: &str) -> Option<i64> {
        let d = chrono::NaiveDate::parse_from_str(date, "%Y-%m-%d").ok()?;
        let t = chrono::NaiveTime::parse_from_str(time, "%H:%M").ok()?;
        let local = self.0.from_local_datetime(&d.and_time(t)).earliest()?;
        Some(local.timestamp_millis())
    }

    /// For `<time datetime>`: RFC 3339 with the clinic's offset.
    pub fn iso(&self, ms: i64) -> String {
        self.0
            .from_utc_datetime(&from_ms(ms).naive_utc())
            .to_rfc3339()
    }
}

/// The first non-blank of the candidates (a bare phone number in the national format), else
/// the translated fallback.
pub fn first_name(lang: &str, candidates: &[Option<&str>], fallback_key: &str) -> String {
    candidates
        .iter()
        .flatten()
        .map(|s| s.trim())
        .find(|s| !s.is_empty())
        .map(tsunagu_contacts::phone::display_name)
        .unwrap_or_else(|| i18n::text(lang, fallback_key))
}

/// What the bubble adds for newer providers: a delivery report (`delivered`, which LINE never
/// sends) and a WhatsApp template shown as the text it rendered to.
pub fn refine(mut v: MessageView, m: &Message) -> MessageView {
    if m.direction == "out" && m.status == "delivered" {
        v.status = Some("delivered");
    }
    if m.kind == "template" && m.unsent_at.is_none() {
        v.kind = "template";
        v.text = m.body.clone().filter(|b| !b.is_empty());
    }
    v
}

/// "LINE", "SMS", 「メール」…; an unknown kind is shown as stored.
pub fn channel_label(lang: &str, kind: &str) -> String {
    let key = format!("inbox.channel.{kind}");
    let label = i18n::text(lang, &key);
    if label == key {
        kind.to_string()
    } else {
        label
    }
}

/// The store writes `[image]`-style previews for messages without text; show them in words.
pub fn preview_label(lang: &str, preview: &str) -> String {
    let kind = preview.strip_prefix('[').and_then(|p| p.strip_suffix(']'));
    match kind {
        Some(
            k @ ("image" | "video" | "audio" | "file" | "location" | "sticker" | "postback"
            | "system"),
        ) => {
            format!("[{}]", i18n::text(lang, &format!("msg.kind.{k}")))
        }
        Some("message") => format!("[{}]", i18n::text(lang, "msg.kind.unknown")),
        _ => preview.to_string(),
    }
}

/// `12 KB`, `3.4 MB`.
pub fn size_label(bytes: i64) -> String {
    const KB: f64 = 1024.0;
    let b = bytes.max(0) as f64;
    if b < KB {
        format!("{bytes} B")
    } else if b < KB * KB {
        format!("{:.0} KB", b / KB)
    } else {
        format!("{:.1} MB", b / (KB * KB))
    }
}

/// Only https pictures are shown: the CSP allows them, and LINE serves profiles over https.
pub fn safe_picture(url: Option<&str>) -> Option<String> {
    url.filter(|u| u.starts_with("https://") && !u.contains(['"', '<', '>', ' ']))
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tokyo() -> Zone {
        Zone(chrono_tz::Asia::Tokyo)
    }

    // 2026-11-23 00:41 UTC = 09:41 in Tokyo.
    const NOW: i64 = 1_795_394_460_000;

    #[test]
    fn a_time_today_shows_only_the_clock_in_the_clinic_zone() {
        assert_eq!(tokyo().label(NOW, NOW), "09:41");
    }

    #[test]
    fn an_earlier_day_shows_month_and_day_and_another_year_the_year() {
        assert_eq!(tokyo().label(NOW - 86_400_000, NOW), "11/22 09:41");
        assert_eq!(
            tokyo().label(NOW - 400 * 86_400_000, NOW),
            "2025/10/19 09:41"
        );
    }

    fn clinic(tz: &str) -> Clinic {
        Clinic {
            id: "c".into(),
            organization_id: "o".into(),
            slug: "s".into(),
            name: "n".into(),
            timezone: tz.into(),
            locale: "ja".into(),
            require_2fa: 1,
            created_at: 0,
        }
    }

    #[test]
    fn the_clinics_zone_is_used_and_an_unknown_one_falls_back_to_tokyo() {
        assert_eq!(Zone::of(&clinic("Europe/London")).label(NOW, NOW), "00:41");
        assert_eq!(Zone::of(&clinic("Mars/Olympus")).label(NOW, NOW), "09:41");
    }

    #[test]
    fn placeholder_previews_are_shown_in_words() {
        assert_eq!(preview_label("ja", "[image]"), "[画像]");
        assert_eq!(preview_label("en", "[image]"), "[Image]");
        assert_eq!(preview_label("ja", "[system]"), "[お知らせ]");
        assert_eq!(preview_label("ja", "[予約] 明日"), "[予約] 明日");
    }

    #[test]
    fn only_https_pictures_are_used() {
        assert_eq!(
            safe_picture(Some("https://profile.line-scdn.net/x")),
            Some("https://profile.line-scdn.net/x".into())
        );
        assert_eq!(safe_picture(Some("http://example.com/x")), None);
        assert_eq!(safe_picture(Some("javascript:alert(1)")), None);
    }

    #[test]
    fn sizes_read_naturally() {
        assert_eq!(size_label(512), "512 B");
        assert_eq!(size_label(12 * 1024), "12 KB");
        assert_eq!(size_label(3_565_158), "3.4 MB");
    }
}
