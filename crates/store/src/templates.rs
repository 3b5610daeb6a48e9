//! WhatsApp message templates, managed per channel. Outside the 24-hour service window WhatsApp
//! delivers only templates Meta has approved, so staff see only `approved` ones. Meta's review
//! state is recorded through [`set_status`]: by an administrator, an integration, or the
//! WhatsApp client's sync with the Graph API.
use anyhow::Context;
use sqlx::{AnyConnection, FromRow};
use tsunagu_core::{new_id, ChannelId, ClinicId};

pub const CATEGORIES: [&str; 3] = ["MARKETING", "UTILITY", "AUTHENTICATION"];
pub const STATUSES: [&str; 6] = [
    "draft", "pending", "approved", "rejected", "paused", "disabled",
];
/// Meta's limits: template names 512 characters, body text 1024.
pub const MAX_NAME: usize = 512;
pub const MAX_BODY: usize = 1024;
/// A variable's value: one line, no tabs, at most this long.
pub const MAX_PARAM: usize = 1024;

#[derive(Clone, Debug, FromRow)]
pub struct Template {
    pub id: String,
    pub clinic_id: String,
    pub channel_id: String,
    pub name: String,
    pub language: String,
    pub category: String,
    pub body: String,
    pub variables: i64,
    pub status: String,
    pub provider_template_id: Option<String>,
    pub status_reason: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// Why a template (or the values for it) was refused; `code()` is the stable key.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Invalid {
    #[error("name must be 1 to 512 lowercase letters, digits or underscores")]
    Name,
    #[error("language must be a code such as ja or en_US")]
    Language,
    #[error("category must be MARKETING, UTILITY or AUTHENTICATION")]
    Category,
    #[error("body must be 1 to 1024 characters")]
    Body,
    #[error("placeholders must be {{{{1}}}} to {{{{n}}}} without gaps")]
    Placeholders,
    #[error("a template with this name and language exists on this channel")]
    Exists,
    #[error("status must be one of draft, pending, approved, rejected, paused, disabled")]
    Status,
    #[error("the template is not approved")]
    NotApproved,
    #[error("the template takes {expected} values, {given} were given")]
    ParamCount { expected: usize, given: usize },
    #[error("each value must be 1 to 1024 characters on one line")]
    Param,
}

impl Invalid {
    pub fn code(&self) -> &'static str {
        match self {
            Invalid::Name => "invalid_template_name",
            Invalid::Language => "invalid_template_language",
            Invalid::Category => "invalid_template_category",
            Invalid::Body => "invalid_template_body",
            Invalid::Placeholders => "invalid_template_placeholders",
            Invalid::Exists => "template_exists",
            Invalid::Status => "invalid_template_status",
            Invalid::NotApproved => "template_not_approved",
            Invalid::ParamCount { .. } => "template_param_count",
            Invalid::Param => "invalid_template_param",
        }
    }
}

pub struct NewTemplate<'a> {
    pub clinic_id: &'a ClinicId,
    pub channel_id: &'a ChannelId,
    pub name: &'a str,
    pub language: &'a str,
    pub category: &'a str,
    pub body: &'a str,
}

fn check_name(name: &str) -> Result<(), Invalid> {
    let ok = !name.is_empty()
        && name.len() <= MAX_NAME
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    ok.then_some(()).ok_or(Invalid::Name)
}

/// `ja`, `en`, `en_US`, `pt_BR`, `zh_CN`: Meta's language codes.
fn check_language(lang: &str) -> Result<(), Invalid> {
    let (base, region) = match lang.split_once('_') {
        Some((b, r)) => (b, Some(r)),
        None => (lang, None),
    };
    let base_ok = (2..=3).contains(&base.len()) && base.chars().all(|c| c.is_ascii_lowercase());
    let region_ok =
        region.is_none_or(|r| r.len() == 2 && r.chars().all(|c| c.is_ascii_uppercase()));
    (base_ok && region_ok)
        .then_some(())
        .ok_or(Invalid::Language)
}

/// The `{{n}}` placeholders of a body, in order of appearance. Anything else between double
/// braces is refused: Meta's positional parameters are numbers.
fn placeholders(body: &str) -> Result<Vec<usize>, Invalid> {
    let mut out = Vec::new();
    let mut rest = body;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let end = after.find("}}").ok_or(Invalid::Placeholders)?;
        let inner = &after[..end];
        if inner.is_empty() || !inner.chars().all(|c| c.is_ascii_digit()) || inner.len() > 3 {
            return Err(Invalid::Placeholders);
        }
        out.push(inner.parse().map_err(|_| Invalid::Placeholders)?);
        rest = &after[end + 2..];
    }
    if rest.contains("}}") {
        return Err(Invalid::Placeholders);
    }
    Ok(out)
}

/// How many variables a body takes: its placeholders must be exactly `{{1}}` … `{{n}}` (each may
/// appear more than once).
pub fn count_variables(body: &str) -> Result<usize, Invalid> {
    let mut seen = placeholders(body)?;
    seen.sort_unstable();
    seen.dedup();
    let gapless = seen.iter().enumerate().all(|(i, n)| *n == i + 1);
    gapless.then_some(seen.len()).ok_or(Invalid::Placeholders)
}

/// Checks a new template; the number of variables its body takes.
pub fn check(t: &NewTemplate<'_>) -> Result<usize, Invalid> {
    check_name(t.name)?;
    check_language(t.language)?;
    if !CATEGORIES.contains(&t.category) {
        return Err(Invalid::Category);
    }
    let len = t.body.chars().count();
    if t.body.trim().is_empty() || len > MAX_BODY {
        return Err(Invalid::Body);
    }
    count_variables(t.body)
}

/// The body with `{{n}}` replaced by `params[n-1]` (what staff see in the conversation).
pub fn render(body: &str, params: &[String]) -> String {
    let mut out = String::with_capacity(body.len());
    let mut rest = body;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let value = after.find("}}").and_then(|end| {
            let n: usize = after[..end].parse().ok()?;
            Some((params.get(n.checked_sub(1)?)?, end))
        });
        match value {
            Some((v, end)) => {
                out.push_str(v);
                rest = &after[end + 2..];
            }
            None => {
                out.push_str("{{");
                rest = after;
            }
        }
    }
    out.push_str(rest);
    out
}

/// Whether `params` may be sent with `t` now: approved, one value per variable, each on one line
/// (WhatsApp refuses values with newlines or tabs).
pub fn check_send(t: &Template, params: &[String]) -> Result<(), Invalid> {
    if t.status != "approved" {
        return Err(Invalid::NotApproved);
    }
    let expected = usize::try_from(t.variables).unwrap_or(0);
    if params.len() != expected {
        return Err(Invalid::ParamCount {
            expected,
            given: params.len(),
        });
    }
    let bad = |p: &String| {
        p.trim().is_empty() || p.chars().count() > MAX_PARAM || p.contains(['\n', '\r', '\t'])
    };
    if params.iter().any(bad) {
        return Err(Invalid::Param);
    }
    Ok(())
}

const COLS: &str = "id, clinic_id, channel_id, name, language, category, body, variables, status, provider_template_id, status_reason, created_at, updated_at";

/// Stores a new template as `draft`. `Ok(Err(Exists))` when the channel already has one with this
/// name and language.
pub async fn create(
    conn: &mut AnyConnection,
    t: NewTemplate<'_>,
    now_ms: i64,
) -> anyhow::Result<Result<Template, Invalid>> {
    let variables = match check(&t) {
        Ok(n) => n as i64,
        Err(e) => return Ok(Err(e)),
    };
    let id = new_id();
    // ON CONFLICT keeps a PostgreSQL transaction usable, unlike a caught unique violation.
    let done = sqlx::query(
        "INSERT INTO message_templates (id, clinic_id, channel_id, name, language, category, body,
            variables, status, provider_template_id, status_reason, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'draft', NULL, NULL, $9, $9)
         ON CONFLICT (channel_id, name, language) DO NOTHING",
    )
    .bind(&id)
    .bind(t.clinic_id.as_str())
    .bind(t.channel_id.as_str())
    .bind(t.name)
    .bind(t.language)
    .bind(t.category)
    .bind(t.body)
    .bind(variables)
    .bind(now_ms)
    .execute(&mut *conn)
    .await
    .context("storing a message template")?;
    if done.rows_affected() == 0 {
        return Ok(Err(Invalid::Exists));
    }
    let row = by_id(conn, t.clinic_id, &id)
        .await?
        .context("the template just stored")?;
    Ok(Ok(row))
}

/// A channel's templates, by name then language.
pub async fn list_by_channel(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    channel: &ChannelId,
) -> anyhow::Result<Vec<Template>> {
    sqlx::query_as(&format!(
        "SELECT {COLS} FROM message_templates WHERE clinic_id = $1 AND channel_id = $2
         ORDER BY name, language"
    ))
    .bind(clinic.as_str())
    .bind(channel.as_str())
    .fetch_all(conn)
    .await
    .context("listing the channel's message templates")
}

pub async fn by_id(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    id: &str,
) -> anyhow::Result<Option<Template>> {
    sqlx::query_as(&format!(
        "SELECT {COLS} FROM message_templates WHERE id = $1 AND clinic_id = $2"
    ))
    .bind(id)
    .bind(clinic.as_str())
    .fetch_optional(conn)
    .await
    .context("looking up a message template")
}

/// Meta's review state of a template, as recorded.
pub struct StatusUpdate<'a> {
    /// One of [`STATUSES`].
    pub status: &'a str,
    /// Meta's template id, once submitted; `None` keeps the one stored.
    pub provider_template_id: Option<&'a str>,
    /// Why it was rejected, paused or disabled; cleared when `None`.
    pub reason: Option<&'a str>,
}

/// Records a template's review state: the boundary the WhatsApp client's Graph API sync calls,
/// as do the settings page and the API. `Ok(None)`: no such template in this clinic.
pub async fn set_status(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    id: &str,
    u: StatusUpdate<'_>,
    now_ms: i64,
) -> anyhow::Result<Result<Option<Template>, Invalid>> {
    if !STATUSES.contains(&u.status) {
        return Ok(Err(Invalid::Status));
    }
    let reason = u.reason.map(str::trim).filter(|r| !r.is_empty());
    let done = sqlx::query(
        "UPDATE message_templates SET status = $1,
            provider_template_id = COALESCE($2, provider_template_id), status_reason = $3,
            updated_at = $4
         WHERE id = $5 AND clinic_id = $6",
    )
    .bind(u.status)
    .bind(u.provider_template_id)
    .bind(reason)
    .bind(now_ms)
    .bind(id)
    .bind(clinic.as_str())
    .execute(&mut *conn)
    .await
    .context("recording a message template's status")?;
    if done.rows_affected() == 0 {
        return Ok(Ok(None));
    }
    Ok(Ok(by_id(conn, clinic, id).await?))
}

/// Removes a template (messages already sent keep their rendered text). `false`: no such
/// template in this clinic.
pub async fn delete(conn: &mut AnyConnection, clinic: &ClinicId, id: &str) -> anyhow::Result<bool> {
    let done = sqlx::query("DELETE FROM message_templates WHERE id = $1 AND clinic_id = $2")
        .bind(id)
        .bind(clinic.as_str())
        .execute(conn)
        .await
        .context("deleting a message template")?;
    Ok(done.rows_affected() > 0)
}

/// Queues a sync with Meta (drafts submitted, review states recorded); at most one per channel
/// per minute, so repeated clicks do not pile up. `false`: one is already queued this minute.
pub async fn enqueue_sync(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    channel: &ChannelId,
    now_ms: i64,
) -> anyhow::Result<bool> {
    let minute = (now_ms / 60_000).to_string();
    enqueue_sync_keyed(conn, clinic, channel, &minute, now_ms).await
}

/// As [`enqueue_sync`], once per `key` (e.g. the Meta webhook that announced a review).
pub async fn enqueue_sync_keyed(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    channel: &ChannelId,
    key: &str,
    now_ms: i64,
) -> anyhow::Result<bool> {
    let payload = tsunagu_core::jobs::WhatsAppSyncTemplates {
        channel_id: channel.clone(),
    };
    let key = format!("templates:{}:{key}", channel.as_str());
    let at = crate::jobs::Enqueue {
        clinic_id: Some(clinic),
        idempotency_key: &key,
        run_at: now_ms,
    };
    Ok(crate::jobs::enqueue(conn, &payload, at, now_ms)
        .await?
        .is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_must_run_from_one_without_gaps() {
        assert_eq!(count_variables("こんにちは"), Ok(0));
        assert_eq!(count_variables("{{1}}様 {{2}}に"), Ok(2));
        assert_eq!(count_variables("{{2}} {{1}} {{1}}"), Ok(2));
        assert_eq!(count_variables("{{1}} {{3}}"), Err(Invalid::Placeholders));
        assert_eq!(count_variables("{{0}}"), Err(Invalid::Placeholders));
        assert_eq!(count_variables("{{name}}"), Err(Invalid::Placeholders));
        assert_eq!(count_variables("{{1}"), Err(Invalid::Placeholders));
    }

    #[test]
    fn language_codes_look_like_metas() {
        for ok in ["ja", "en", "en_US", "pt_BR", "fil"] {
            assert!(check_language(ok).is_ok(), "{ok}");
        }
        for bad in ["", "JA", "en-US", "en_us", "english"] {
            assert!(check_language(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn render_fills_each_placeholder_and_leaves_unknown_ones() {
        let p = vec!["山田".to_string(), "3月1日".to_string()];
        assert_eq!(
            render("{{1}}様、{{2}}のご予約です。{{1}}様", &p),
            "山田様、3月1日のご予約です。山田様"
        );
        assert_eq!(render("{{3}} {x}", &p), "{{3}} {x}");
    }
}
