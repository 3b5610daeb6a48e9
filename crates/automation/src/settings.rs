//! A clinic's automation settings: the away message (on/off, its words, how often), the human
//! escape words and the quiet window. No row reads as [`Settings::default`].
use anyhow::Context;
use sqlx::{AnyConnection, FromRow};
use tsunagu_core::text::match_form;
use tsunagu_core::{ClinicId, Code, Refusal};
use tsunagu_inbox::canned::render::unknown_variable;

/// What patients type to reach a person, unless the clinic changes the list.
pub const DEFAULT_ESCAPE_WORDS: [&str; 4] = ["スタッフ", "人と話したい", "オペレーター", "人間"];
/// The away message a clinic starts from (the next opening is added after it).
pub const DEFAULT_AWAY_TEXT: &str = "お問い合わせありがとうございます。ただいま診療時間外のため、診療時間内にスタッフが確認してご返信します。お急ぎの場合は{{clinic.phone}}までお電話ください。";
pub const MAX_TEXT: usize = 5000;
pub const MAX_ESCAPE_WORDS: usize = 20;
pub const MAX_WORD: usize = 50;
pub const AWAY_HOURS: (i64, i64) = (1, 168);
pub const QUIET_MINUTES: (i64, i64) = (0, 1440);

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    pub away_enabled: bool,
    pub away_text: String,
    /// The away message goes at most once per conversation in this many hours.
    pub away_every_hours: i64,
    pub escape_words: Vec<String>,
    /// A staff reply within this many minutes (in an assigned conversation) keeps automation
    /// quiet; 0 turns the rule off.
    pub quiet_minutes: i64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            away_enabled: false,
            away_text: DEFAULT_AWAY_TEXT.to_string(),
            away_every_hours: 12,
            escape_words: DEFAULT_ESCAPE_WORDS.iter().map(|w| w.to_string()).collect(),
            quiet_minutes: 30,
        }
    }
}

impl Settings {
    /// Whether the text asks for a person: it contains one of the escape words (in match
    /// form), so 「スタッフと話したいです」 counts too. Asking for a person by mistake costs a
    /// staff look; missing one traps a patient in a bot.
    pub fn asks_for_a_person(&self, text: &str) -> bool {
        let form = match_form(text);
        !form.is_empty()
            && self
                .escape_words
                .iter()
                .map(|w| match_form(w))
                .any(|w| !w.is_empty() && form.contains(&w))
    }
}

/// The settings form as typed.
#[derive(Clone, Debug, Default)]
pub struct Draft {
    pub away_enabled: bool,
    pub away_text: String,
    pub away_every_hours: String,
    /// One word per line (or separated by 、 or commas).
    pub escape_words: String,
    pub quiet_minutes: String,
}

fn number(s: &str, field: &'static str, (min, max): (i64, i64)) -> Result<i64, Refusal> {
    let folded = tsunagu_core::text::fold_width(s.trim());
    match folded.parse::<i64>() {
        Ok(n) if (min..=max).contains(&n) => Ok(n),
        _ => Err(Refusal::new(Code::InvalidAutomationNumber)
            .arg_key("field", field)
            .arg("min", min)
            .arg("max", max)
            .detail(format!("a number from {min} to {max}"))),
    }
}

/// Splits a list typed one per line, or with 、 / commas, trimmed, without repeats.
pub fn split_words(s: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for w in s.split(['\n', '、', ',', '，']) {
        let w = w.trim();
        if !w.is_empty() && !out.iter().any(|o| match_form(o) == match_form(w)) {
            out.push(w.to_string());
        }
    }
    out
}

/// Checks reply texts the same way everywhere: 1–5000 chars, only known `{{variables}}`.
pub fn check_text(text: &str) -> Result<String, Refusal> {
    let text = text.replace("\r\n", "\n");
    let text = text.trim();
    if text.is_empty() || text.chars().count() > MAX_TEXT {
        return Err(Refusal::new(Code::InvalidAutomationText).detail("1 to 5000 characters"));
    }
    if let Some(v) = unknown_variable(text) {
        return Err(Refusal::new(Code::UnknownCannedVariable).arg("variable", v));
    }
    Ok(text.to_string())
}

impl Draft {
    pub fn check(&self) -> Result<Settings, Refusal> {
        let away_text = if self.away_enabled || !self.away_text.trim().is_empty() {
            check_text(&self.away_text)?
        } else {
            DEFAULT_AWAY_TEXT.to_string()
        };
        let escape_words = split_words(&self.escape_words);
        if escape_words.is_empty()
            || escape_words.len() > MAX_ESCAPE_WORDS
            || escape_words
                .iter()
                .any(|w| w.chars().count() > MAX_WORD || match_form(w).is_empty())
        {
            return Err(Refusal::new(Code::InvalidEscapeWords)
                .detail("1 to 20 escape words, each up to 50 characters"));
        }
        Ok(Settings {
            away_enabled: self.away_enabled,
            away_text,
            away_every_hours: number(
                &self.away_every_hours,
                "automation.field.away_every_hours",
                AWAY_HOURS,
            )?,
            escape_words,
            quiet_minutes: number(
                &self.quiet_minutes,
                "automation.field.quiet_minutes",
                QUIET_MINUTES,
            )?,
        })
    }
}

#[derive(FromRow)]
struct Row {
    away_enabled: i64,
    away_text: String,
    away_every_hours: i64,
    escape_words: String,
    quiet_minutes: i64,
}

pub async fn load(conn: &mut AnyConnection, clinic: &ClinicId) -> anyhow::Result<Settings> {
    let row: Option<Row> = sqlx::query_as(
        "SELECT away_enabled, away_text, away_every_hours, escape_words, quiet_minutes
         FROM automation_settings WHERE clinic_id = $1",
    )
    .bind(clinic.as_str())
    .fetch_optional(conn)
    .await
    .context("loading the clinic's automation settings")?;
    Ok(match row {
        None => Settings::default(),
        Some(r) => Settings {
            away_enabled: r.away_enabled != 0,
            away_text: r.away_text,
            away_every_hours: r.away_every_hours,
            escape_words: serde_json::from_str(&r.escape_words).unwrap_or_default(),
            quiet_minutes: r.quiet_minutes,
        },
    })
}

pub async fn save(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    s: &Settings,
    now_ms: i64,
) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO automation_settings (clinic_id, away_enabled, away_text, away_every_hours, escape_words, quiet_minutes, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (clinic_id) DO UPDATE SET away_enabled = excluded.away_enabled,
           away_text = excluded.away_text, away_every_hours = excluded.away_every_hours,
           escape_words = excluded.escape_words, quiet_minutes = excluded.quiet_minutes,
           updated_at = excluded.updated_at",
    )
    .bind(clinic.as_str())
    .bind(i64::from(s.away_enabled))
    .bind(&s.away_text)
    .bind(s.away_every_hours)
    .bind(serde_json::to_string(&s.escape_words)?)
    .bind(s.quiet_minutes)
    .bind(now_ms)
    .execute(conn)
    .await
    .context("saving the clinic's automation settings")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_words_are_found_in_any_width_kana_or_inside_a_sentence() {
        let s = Settings::default();
        for t in [
            "スタッフ",
            "ｽﾀｯﾌ",
            "すたっふ",
            "スタッフと話したいです",
            "人と話したい！",
            "オペレーター",
        ] {
            assert!(s.asks_for_a_person(t), "{t}");
        }
        for t in ["駐車場", "予約", ""] {
            assert!(!s.asks_for_a_person(t), "{t}");
        }
    }

    #[test]
    fn the_form_reads_numbers_in_full_width_and_refuses_out_of_range() {
        let d = Draft {
            away_enabled: true,
            away_text: "時間外です".into(),
            away_every_hours: "１２".into(),
            escape_words: "スタッフ\n人間、スタッフ".into(),
            quiet_minutes: "30".into(),
        };
        let s = d.check().unwrap();
        assert_eq!(s.away_every_hours, 12);
        assert_eq!(s.escape_words, vec!["スタッフ", "人間"]);
        let bad = Draft {
            quiet_minutes: "-1".into(),
            ..d.clone()
        };
        assert_eq!(bad.check().unwrap_err().code, Code::InvalidAutomationNumber);
        let unknown = Draft {
            away_text: "{{patient.nmae}}様".into(),
            ..d
        };
        assert_eq!(
            unknown.check().unwrap_err().code,
            Code::UnknownCannedVariable
        );
    }
}
