//! A clinic's satisfaction survey settings. No row reads as [`Settings::default`] (off).
use anyhow::Context;
use sqlx::{AnyConnection, FromRow};
use tsunagu_core::ClinicId;

/// The channel kinds a survey can go on.
pub const KINDS: [&str; 4] = ["line", "whatsapp", "messenger", "sms"];
pub const DEFAULT_QUESTION: &str =
    "本日のご対応はいかがでしたか？ 5段階でお選びください（1: 不満 〜 5: 満足）。";
pub const DEFAULT_THANKS: &str = "ご回答ありがとうございました。今後の対応に役立てます。";
pub const DEFAULT_COMMENT_PROMPT: &str =
    "よろしければ、ご意見をひとことお送りください（なければ返信は不要です）。";
pub const MAX_TEXT: usize = 500;
pub const DELAY_MINUTES: (i64, i64) = (0, 7 * 24 * 60);
pub const MIN_DAYS: (i64, i64) = (0, 365);

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    pub enabled: bool,
    /// Minutes after the resolve before the survey goes.
    pub delay_minutes: i64,
    pub question: String,
    pub thanks: String,
    /// Empty: no comment is asked for.
    pub comment_prompt: String,
    /// A patient is asked at most once in this many days (0: after every resolve).
    pub min_days: i64,
    /// Channel kinds asked (`KINDS`).
    pub channel_kinds: Vec<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            enabled: false,
            delay_minutes: 30,
            question: DEFAULT_QUESTION.into(),
            thanks: DEFAULT_THANKS.into(),
            comment_prompt: DEFAULT_COMMENT_PROMPT.into(),
            min_days: 30,
            channel_kinds: KINDS.iter().map(|k| k.to_string()).collect(),
        }
    }
}

/// Why settings cannot be saved (`key` names the catalog text, `satisfaction.error.<key>`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Invalid {
    Delay,
    MinDays,
    Question,
    Thanks,
    CommentPrompt,
    Channels,
}

impl Invalid {
    pub fn key(self) -> &'static str {
        match self {
            Invalid::Delay => "delay",
            Invalid::MinDays => "min_days",
            Invalid::Question => "question",
            Invalid::Thanks => "thanks",
            Invalid::CommentPrompt => "comment_prompt",
            Invalid::Channels => "channels",
        }
    }
}

impl Settings {
    /// The settings trimmed and within bounds, or the first thing wrong.
    pub fn check(mut self) -> Result<Settings, Invalid> {
        let within = |v: i64, (lo, hi): (i64, i64)| (lo..=hi).contains(&v);
        if !within(self.delay_minutes, DELAY_MINUTES) {
            return Err(Invalid::Delay);
        }
        if !within(self.min_days, MIN_DAYS) {
            return Err(Invalid::MinDays);
        }
        let text = |s: &mut String, required: bool| {
            *s = s.trim().to_string();
            (!(required && s.is_empty()) && s.chars().count() <= MAX_TEXT).then_some(())
        };
        text(&mut self.question, true).ok_or(Invalid::Question)?;
        text(&mut self.thanks, true).ok_or(Invalid::Thanks)?;
        text(&mut self.comment_prompt, false).ok_or(Invalid::CommentPrompt)?;
        if self
            .channel_kinds
            .iter()
            .any(|k| !KINDS.contains(&k.as_str()))
            || (self.enabled && self.channel_kinds.is_empty())
        {
            return Err(Invalid::Channels);
        }
        self.channel_kinds
            .sort_by_key(|k| KINDS.iter().position(|x| x == k));
        self.channel_kinds.dedup();
        Ok(self)
    }

    pub fn asks_on(&self, kind: &str) -> bool {
        self.channel_kinds.iter().any(|k| k == kind)
    }
}

#[derive(FromRow)]
struct Row {
    enabled: i64,
    delay_minutes: i64,
    question: String,
    thanks: String,
    comment_prompt: String,
    min_days: i64,
    channel_kinds: String,
}

pub async fn load(conn: &mut AnyConnection, clinic: &ClinicId) -> anyhow::Result<Settings> {
    let row: Option<Row> = sqlx::query_as(
        "SELECT enabled, delay_minutes, question, thanks, comment_prompt, min_days, channel_kinds
         FROM satisfaction_settings WHERE clinic_id = $1",
    )
    .bind(clinic.as_str())
    .fetch_optional(conn)
    .await
    .context("reading the satisfaction survey settings")?;
    Ok(match row {
        None => Settings::default(),
        Some(r) => Settings {
            enabled: r.enabled != 0,
            delay_minutes: r.delay_minutes,
            question: r.question,
            thanks: r.thanks,
            comment_prompt: r.comment_prompt,
            min_days: r.min_days,
            channel_kinds: r
                .channel_kinds
                .split(',')
                .filter(|k| !k.is_empty())
                .map(str::to_string)
                .collect(),
        },
    })
}

/// Saves checked settings (`Settings::check`).
pub async fn save(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    s: &Settings,
    now_ms: i64,
) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO satisfaction_settings (clinic_id, enabled, delay_minutes, question, thanks,
            comment_prompt, min_days, channel_kinds, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (clinic_id) DO UPDATE SET enabled = $2, delay_minutes = $3, question = $4,
            thanks = $5, comment_prompt = $6, min_days = $7, channel_kinds = $8, updated_at = $9",
    )
    .bind(clinic.as_str())
    .bind(i64::from(s.enabled))
    .bind(s.delay_minutes)
    .bind(&s.question)
    .bind(&s.thanks)
    .bind(&s.comment_prompt)
    .bind(s.min_days)
    .bind(s.channel_kinds.join(","))
    .bind(now_ms)
    .execute(conn)
    .await
    .context("saving the satisfaction survey settings")?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_out_of_bounds_are_refused_with_their_field() {
        let ok = Settings::default();
        assert!(ok.clone().check().is_ok());
        let bad = |f: fn(&mut Settings)| {
            let mut s = Settings::default();
            f(&mut s);
            s.check().unwrap_err()
        };
        assert_eq!(bad(|s| s.delay_minutes = -1), Invalid::Delay);
        assert_eq!(bad(|s| s.min_days = 400), Invalid::MinDays);
        assert_eq!(bad(|s| s.question = "  ".into()), Invalid::Question);
        assert_eq!(bad(|s| s.thanks = "あ".repeat(501)), Invalid::Thanks);
        assert_eq!(
            bad(|s| s.channel_kinds = vec!["fax".into()]),
            Invalid::Channels
        );
        let on_nowhere = |s: &mut Settings| {
            s.enabled = true;
            s.channel_kinds.clear();
        };
        assert_eq!(bad(on_nowhere), Invalid::Channels);
    }
}
