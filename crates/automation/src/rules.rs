//! Keyword auto-replies (キーワード自動応答): a rule has a name, several spellings (駐車場 /
//! ちゅうしゃじょう), a match mode, the reply (with the canned responses' `{{variables}}`), a
//! channel (or all), active hours from the clinic calendar, and an optional team the
//! conversation is handed to after the answer, and a flow it starts (フローを開始: after the
//! reply, or instead of one when the reply is empty). The first enabled rule that matches,
//! oldest first, answers.
use anyhow::Context;
use serde::{Deserialize, Serialize};
use sqlx::{AnyConnection, FromRow};
use tsunagu_core::text::match_form;
use tsunagu_core::{new_id, ChannelId, ClinicId, Code, Refusal};
use tsunagu_inbox::routing::{self, teams};
use tsunagu_privacy::audit::Actor;
use tsunagu_store::channels;

use crate::matching::{MatchMode, Matcher};
use crate::settings::{check_text, split_words};

pub const MAX_NAME: usize = 50;
pub const MAX_KEYWORDS: usize = 20;
pub const MAX_KEYWORD: usize = 50;
/// A pattern may be longer than a word.
pub const MAX_PATTERN: usize = 200;

/// When a rule answers, by the clinic calendar.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActiveHours {
    Always,
    /// During opening hours only.
    Open,
    /// Outside opening hours only.
    Closed,
}

impl ActiveHours {
    pub fn parse(s: &str) -> Option<ActiveHours> {
        Some(match s {
            "always" => ActiveHours::Always,
            "open" => ActiveHours::Open,
            "closed" => ActiveHours::Closed,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ActiveHours::Always => "always",
            ActiveHours::Open => "open",
            ActiveHours::Closed => "closed",
        }
    }

    /// Whether a rule with these hours answers now (`open`: the clinic is open now).
    pub fn allows(self, open: bool) -> bool {
        match self {
            ActiveHours::Always => true,
            ActiveHours::Open => open,
            ActiveHours::Closed => !open,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeywordRule {
    pub id: String,
    pub clinic_id: String,
    pub name: String,
    pub keywords: Vec<String>,
    pub match_mode: MatchMode,
    pub reply_text: String,
    pub channel_id: Option<String>,
    pub active_hours: ActiveHours,
    pub team_id: Option<String>,
    /// The flow this rule starts (after its reply, if any).
    pub flow_id: Option<String>,
    pub enabled: bool,
    pub created_at: i64,
    pub updated_at: i64,
}

/// A rule as typed (form or API), checked by [`Draft::check`].
#[derive(Clone, Debug, Default)]
pub struct Draft {
    pub name: String,
    pub keywords: Vec<String>,
    /// `exact`, `contains` or `pattern`.
    pub match_mode: String,
    pub reply_text: String,
    pub channel_id: Option<String>,
    /// `always`, `open` or `closed`.
    pub active_hours: String,
    pub team_id: Option<String>,
    pub flow_id: Option<String>,
    pub enabled: bool,
}

/// A draft that passed the checks that need no database.
#[derive(Clone, Debug)]
pub struct Checked {
    name: String,
    keywords: Vec<String>,
    match_mode: MatchMode,
    reply_text: String,
    channel_id: Option<String>,
    active_hours: ActiveHours,
    team_id: Option<String>,
    flow_id: Option<String>,
    enabled: bool,
}

impl Draft {
    /// Keywords typed in one box, one per line (or separated by 、 / commas; a pattern only by
    /// line, since it may hold commas).
    pub fn keywords_from_text(text: &str, mode: &str) -> Vec<String> {
        if mode == "pattern" {
            text.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_string)
                .collect()
        } else {
            split_words(text)
        }
    }

    pub fn check(&self) -> Result<Checked, Refusal> {
        let name = self.name.trim();
        if name.is_empty() || name.chars().count() > MAX_NAME {
            return Err(Refusal::new(Code::InvalidKeywordRuleName).detail("1 to 50 characters"));
        }
        let mode = MatchMode::parse(self.match_mode.trim()).ok_or_else(|| {
            Refusal::new(Code::InvalidRequest).detail("match_mode: exact, contains or pattern")
        })?;
        let active_hours = ActiveHours::parse(self.active_hours.trim()).ok_or_else(|| {
            Refusal::new(Code::InvalidRequest).detail("active_hours: always, open or closed")
        })?;
        let keywords: Vec<String> = self
            .keywords
            .iter()
            .map(|k| k.trim().to_string())
            .filter(|k| !k.is_empty())
            .collect();
        let max = if mode == MatchMode::Pattern {
            MAX_PATTERN
        } else {
            MAX_KEYWORD
        };
        let unusable = |k: &String| {
            k.chars().count() > max || (mode != MatchMode::Pattern && match_form(k).is_empty())
        };
        if keywords.is_empty() || keywords.len() > MAX_KEYWORDS || keywords.iter().any(unusable) {
            return Err(Refusal::new(Code::KeywordRuleKeywordsRequired)
                .detail("1 to 20 keywords, each up to 50 characters (patterns 200)"));
        }
        if let Err(bad) = Matcher::new(mode, &keywords) {
            return Err(Refusal::new(Code::InvalidKeywordPattern)
                .arg("pattern", &bad.pattern)
                .detail(format!("{}: {}", bad.pattern, bad.why)));
        }
        let flow_id = self.flow_id.clone().filter(|f| !f.trim().is_empty());
        // A rule that starts a flow may leave the reply empty: the flow answers.
        let reply_text = if flow_id.is_some() && self.reply_text.trim().is_empty() {
            String::new()
        } else {
            check_text(&self.reply_text)?
        };
        Ok(Checked {
            name: name.to_string(),
            keywords,
            match_mode: mode,
            reply_text,
            flow_id,
            channel_id: self.channel_id.clone().filter(|c| !c.trim().is_empty()),
            active_hours,
            team_id: self.team_id.clone().filter(|t| !t.trim().is_empty()),
            enabled: self.enabled,
        })
    }
}

#[derive(FromRow)]
struct Row {
    id: String,
    clinic_id: String,
    name: String,
    keywords: String,
    match_mode: String,
    reply_text: String,
    channel_id: Option<String>,
    active_hours: String,
    team_id: Option<String>,
    flow_id: Option<String>,
    enabled: i64,
    created_at: i64,
    updated_at: i64,
}

impl From<Row> for KeywordRule {
    fn from(r: Row) -> Self {
        KeywordRule {
            id: r.id,
            clinic_id: r.clinic_id,
            name: r.name,
            keywords: serde_json::from_str(&r.keywords).unwrap_or_default(),
            // A mode or hours this version does not know never answers (fails closed).
            match_mode: MatchMode::parse(&r.match_mode).unwrap_or(MatchMode::Exact),
            reply_text: r.reply_text,
            channel_id: r.channel_id,
            active_hours: ActiveHours::parse(&r.active_hours).unwrap_or(ActiveHours::Always),
            team_id: r.team_id,
            flow_id: r.flow_id,
            enabled: r.enabled != 0 && MatchMode::parse(&r.match_mode).is_some(),
            created_at: r.created_at,
            updated_at: r.updated_at,
        }
    }
}

const COLS: &str = "id, clinic_id, name, keywords, match_mode, reply_text, channel_id, active_hours, team_id, flow_id, enabled, created_at, updated_at";

/// The clinic's rules, oldest first (the order they are tried in).
pub async fn list(conn: &mut AnyConnection, clinic: &ClinicId) -> anyhow::Result<Vec<KeywordRule>> {
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "SELECT {COLS} FROM automation_keyword_rules WHERE clinic_id = $1 ORDER BY created_at, id"
    ))
    .bind(clinic.as_str())
    .fetch_all(conn)
    .await
    .context("listing the clinic's keyword rules")?;
    Ok(rows.into_iter().map(KeywordRule::from).collect())
}

pub async fn get(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    id: &str,
) -> anyhow::Result<Option<KeywordRule>> {
    let row: Option<Row> = sqlx::query_as(&format!(
        "SELECT {COLS} FROM automation_keyword_rules WHERE clinic_id = $1 AND id = $2"
    ))
    .bind(clinic.as_str())
    .bind(id)
    .fetch_optional(conn)
    .await
    .context("loading a keyword rule")?;
    Ok(row.map(KeywordRule::from))
}

/// A channel or team that is not the clinic's is refused as not found.
async fn check_refs(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    c: &Checked,
) -> anyhow::Result<Result<(), Refusal>> {
    if let Some(ch) = &c.channel_id {
        let id = ChannelId::from_db(ch.clone());
        if channels::by_id(&mut *conn, clinic, &id).await?.is_none() {
            return Ok(Err(Refusal::new(Code::NotFound).detail("no such channel")));
        }
    }
    if let Some(t) = &c.team_id {
        if teams::get(&mut *conn, clinic, t).await?.is_none() {
            return Ok(Err(Refusal::new(Code::NotFound).detail("no such team")));
        }
    }
    if let Some(f) = &c.flow_id {
        if crate::flows::store::get(&mut *conn, clinic, f)
            .await?
            .is_none()
        {
            return Ok(Err(Refusal::new(Code::NotFound).detail("no such flow")));
        }
    }
    Ok(Ok(()))
}

pub async fn create(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    d: &Draft,
    now_ms: i64,
) -> anyhow::Result<Result<KeywordRule, Refusal>> {
    let c = match d.check() {
        Ok(c) => c,
        Err(r) => return Ok(Err(r)),
    };
    if let Err(r) = check_refs(&mut *conn, clinic, &c).await? {
        return Ok(Err(r));
    }
    let id = new_id();
    sqlx::query(
        "INSERT INTO automation_keyword_rules (id, clinic_id, name, keywords, match_mode, reply_text, channel_id, active_hours, team_id, enabled, created_at, updated_at, flow_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11, $12)",
    )
    .bind(&id)
    .bind(clinic.as_str())
    .bind(&c.name)
    .bind(serde_json::to_string(&c.keywords)?)
    .bind(c.match_mode.as_str())
    .bind(&c.reply_text)
    .bind(&c.channel_id)
    .bind(c.active_hours.as_str())
    .bind(&c.team_id)
    .bind(i64::from(c.enabled))
    .bind(now_ms)
    .bind(&c.flow_id)
    .execute(&mut *conn)
    .await
    .context("creating a keyword rule")?;
    Ok(Ok(get(conn, clinic, &id)
        .await?
        .context("the keyword rule just created")?))
}

/// `Ok(Err(not_found))` for a rule that is not the clinic's.
pub async fn update(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    id: &str,
    d: &Draft,
    now_ms: i64,
) -> anyhow::Result<Result<KeywordRule, Refusal>> {
    let c = match d.check() {
        Ok(c) => c,
        Err(r) => return Ok(Err(r)),
    };
    if let Err(r) = check_refs(&mut *conn, clinic, &c).await? {
        return Ok(Err(r));
    }
    let done = sqlx::query(
        "UPDATE automation_keyword_rules SET name = $1, keywords = $2, match_mode = $3, reply_text = $4,
           channel_id = $5, active_hours = $6, team_id = $7, enabled = $8, updated_at = $9, flow_id = $12
         WHERE id = $10 AND clinic_id = $11",
    )
    .bind(&c.name)
    .bind(serde_json::to_string(&c.keywords)?)
    .bind(c.match_mode.as_str())
    .bind(&c.reply_text)
    .bind(&c.channel_id)
    .bind(c.active_hours.as_str())
    .bind(&c.team_id)
    .bind(i64::from(c.enabled))
    .bind(now_ms)
    .bind(id)
    .bind(clinic.as_str())
    .bind(&c.flow_id)
    .execute(&mut *conn)
    .await
    .context("changing a keyword rule")?;
    if done.rows_affected() == 0 {
        return Ok(Err(
            Refusal::new(Code::NotFound).detail("no such keyword rule")
        ));
    }
    Ok(Ok(get(conn, clinic, id)
        .await?
        .context("the keyword rule just changed")?))
}

/// Turns a rule on or off; `false` when it is not the clinic's.
pub async fn set_enabled(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    id: &str,
    enabled: bool,
    now_ms: i64,
) -> anyhow::Result<bool> {
    let done = sqlx::query(
        "UPDATE automation_keyword_rules SET enabled = $1, updated_at = $2 WHERE id = $3 AND clinic_id = $4",
    )
    .bind(i64::from(enabled))
    .bind(now_ms)
    .bind(id)
    .bind(clinic.as_str())
    .execute(conn)
    .await
    .context("turning a keyword rule on or off")?;
    Ok(done.rows_affected() == 1)
}

pub async fn delete(conn: &mut AnyConnection, clinic: &ClinicId, id: &str) -> anyhow::Result<bool> {
    let done = sqlx::query("DELETE FROM automation_keyword_rules WHERE id = $1 AND clinic_id = $2")
        .bind(id)
        .bind(clinic.as_str())
        .execute(conn)
        .await
        .context("deleting a keyword rule")?;
    Ok(done.rows_affected() == 1)
}

/// The first enabled rule for this channel that matches `text` and answers at this hour
/// (`open`: whether the clinic is open now).
pub async fn find_match(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    channel_id: &str,
    text: &str,
    open: bool,
) -> anyhow::Result<Option<KeywordRule>> {
    let rules = list(conn, clinic).await?;
    Ok(rules.into_iter().find(|r| {
        r.enabled
            && r.channel_id.as_deref().is_none_or(|c| c == channel_id)
            && r.active_hours.allows(open)
            && Matcher::new(r.match_mode, &r.keywords).is_ok_and(|m| m.is_match(text))
    }))
}

/// Hands the conversation to the rule's team after its answer (assignment line and audit
/// entry by the system, as `inbox::routing` writes them); the team's name, or `None` when the
/// team is gone or the conversation already was there.
pub async fn hand_to_team(
    db: &tsunagu_store::Db,
    clinic: &ClinicId,
    conversation_id: &str,
    team_id: &str,
    now_ms: i64,
) -> anyhow::Result<Option<String>> {
    let mut conn = db.pool().acquire().await?;
    let Some(team) = teams::get(&mut conn, clinic, team_id).await? else {
        return Ok(None);
    };
    drop(conn);
    let target = routing::Target {
        staff: None,
        team: Some(Some(team_id)),
    };
    let by = routing::assign::By {
        actor: &Actor::System,
        source_ip: None,
    };
    let changed = routing::assign(db, clinic, conversation_id, target, by, now_ms).await?;
    Ok((changed == routing::Change::Changed).then_some(team.name))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft() -> Draft {
        Draft {
            name: "駐車場".into(),
            keywords: vec!["駐車場".into(), "ちゅうしゃじょう".into()],
            match_mode: "exact".into(),
            reply_text: "{{clinic.name}}の駐車場は建物の裏です。".into(),
            channel_id: None,
            active_hours: "always".into(),
            team_id: None,
            flow_id: None,
            enabled: true,
        }
    }

    #[test]
    fn a_rule_needs_a_name_a_keyword_and_a_reply_with_known_variables() {
        assert!(draft().check().is_ok());
        let no_name = Draft {
            name: " ".into(),
            ..draft()
        };
        assert_eq!(
            no_name.check().unwrap_err().code,
            Code::InvalidKeywordRuleName
        );
        let no_words = Draft {
            keywords: vec!["".into(), "。".into()],
            ..draft()
        };
        assert_eq!(
            no_words.check().unwrap_err().code,
            Code::KeywordRuleKeywordsRequired
        );
        let bad_var = Draft {
            reply_text: "{{clinic.adress}}".into(),
            ..draft()
        };
        assert_eq!(
            bad_var.check().unwrap_err().code,
            Code::UnknownCannedVariable
        );
        let bad_pattern = Draft {
            match_mode: "pattern".into(),
            keywords: vec!["[駐車".into()],
            ..draft()
        };
        assert_eq!(
            bad_pattern.check().unwrap_err().code,
            Code::InvalidKeywordPattern
        );
    }

    #[test]
    fn keywords_typed_in_one_box_are_split_by_line_or_comma_but_patterns_only_by_line() {
        assert_eq!(
            Draft::keywords_from_text("駐車場、ちゅうしゃじょう\nparking, 駐車場", "exact"),
            vec!["駐車場", "ちゅうしゃじょう", "parking"]
        );
        assert_eq!(
            Draft::keywords_from_text("a{1,3}\n b ", "pattern"),
            vec!["a{1,3}", "b"]
        );
    }

    #[test]
    fn active_hours_follow_the_calendar() {
        assert!(ActiveHours::Always.allows(true) && ActiveHours::Always.allows(false));
        assert!(ActiveHours::Open.allows(true) && !ActiveHours::Open.allows(false));
        assert!(ActiveHours::Closed.allows(false) && !ActiveHours::Closed.allows(true));
    }
}
