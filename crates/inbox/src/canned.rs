//! Canned responses (定型文): clinic-wide replies with a shortcut, a title and a body with
//! `{{variables}}`, picked in the reply box by typing `/`. Administrators write them; the picker
//! filters them by shortcut or title in search form (width, kana and case folded) and fills the
//! variables in for the conversation (`render`).
pub mod render;
pub mod vars;

use anyhow::Context;
use sqlx::{AnyConnection, FromRow};
use tsunagu_core::text::search_form;
use tsunagu_core::{new_id, ClinicId, Code, Refusal};

pub use render::{Vars, VARIABLES};

pub const MAX_SHORTCUT: usize = 30;
pub const MAX_TITLE: usize = 100;
/// The reply box's own limit.
pub const MAX_BODY: usize = 5000;
/// How many the picker offers at once.
pub const PICKER_LIMIT: usize = 20;

#[derive(Clone, Debug, FromRow)]
pub struct Canned {
    pub id: String,
    pub clinic_id: String,
    pub shortcut: String,
    pub shortcut_key: String,
    pub title: String,
    pub title_key: String,
    pub body: String,
    pub created_at: i64,
    pub updated_at: i64,
}

/// What a canned response is made of, as typed (trimmed here).
pub struct Draft<'a> {
    pub shortcut: &'a str,
    pub title: &'a str,
    pub body: &'a str,
}

/// Why a canned response was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Invalid {
    #[error("shortcut must be 1 to 30 characters without spaces or /")]
    Shortcut,
    #[error("title must be 1 to 100 characters")]
    Title,
    #[error("body must be 1 to 5000 characters")]
    Body,
    #[error("the body uses an unknown variable {0}")]
    UnknownVariable(String),
    #[error("another canned response has this shortcut")]
    Exists,
}

impl Invalid {
    /// The one refusal type, with `{variable}` for the words of `unknown_canned_variable`.
    pub fn refusal(&self) -> Refusal {
        let r = match self {
            Invalid::Shortcut => Refusal::new(Code::InvalidCannedShortcut),
            Invalid::Title => Refusal::new(Code::InvalidCannedTitle),
            Invalid::Body => Refusal::new(Code::InvalidCannedBody),
            Invalid::UnknownVariable(v) => {
                Refusal::new(Code::UnknownCannedVariable).arg("variable", v)
            }
            Invalid::Exists => Refusal::new(Code::CannedShortcutExists),
        };
        r.detail(self.to_string())
    }
}

struct Checked {
    shortcut: String,
    shortcut_key: String,
    title: String,
    title_key: String,
    body: String,
}

fn check(d: &Draft<'_>) -> Result<Checked, Invalid> {
    let shortcut = d.shortcut.trim().trim_start_matches('/');
    let shortcut_key = search_form(shortcut);
    let bad = |c: char| c.is_whitespace() || c == '/' || c.is_control();
    if shortcut_key.is_empty() || shortcut.chars().count() > MAX_SHORTCUT || shortcut.contains(bad)
    {
        return Err(Invalid::Shortcut);
    }
    let title = d.title.trim();
    if title.is_empty() || title.chars().count() > MAX_TITLE {
        return Err(Invalid::Title);
    }
    // Line ends as one kind, trailing blank lines dropped: the text lands in a textarea.
    let body = d.body.replace("\r\n", "\n");
    let body = body.trim_end();
    if body.trim().is_empty() || body.chars().count() > MAX_BODY {
        return Err(Invalid::Body);
    }
    if let Some(v) = render::unknown_variable(body) {
        return Err(Invalid::UnknownVariable(v));
    }
    Ok(Checked {
        shortcut: shortcut.to_string(),
        shortcut_key,
        title: title.to_string(),
        title_key: search_form(title),
        body: body.to_string(),
    })
}

const COLS: &str =
    "id, clinic_id, shortcut, shortcut_key, title, title_key, body, created_at, updated_at";

/// `Ok(Err(Exists))` when the clinic has one with the same shortcut (in search form).
pub async fn create(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    d: Draft<'_>,
    now_ms: i64,
) -> anyhow::Result<Result<Canned, Invalid>> {
    let c = match check(&d) {
        Ok(c) => c,
        Err(e) => return Ok(Err(e)),
    };
    let id = new_id();
    // ON CONFLICT keeps a PostgreSQL transaction usable, unlike a caught unique violation.
    let done = sqlx::query(
        "INSERT INTO canned_responses (id, clinic_id, shortcut, shortcut_key, title, title_key,
            body, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)
         ON CONFLICT (clinic_id, shortcut_key) DO NOTHING",
    )
    .bind(&id)
    .bind(clinic.as_str())
    .bind(&c.shortcut)
    .bind(&c.shortcut_key)
    .bind(&c.title)
    .bind(&c.title_key)
    .bind(&c.body)
    .bind(now_ms)
    .execute(&mut *conn)
    .await
    .context("storing a canned response")?;
    if done.rows_affected() == 0 {
        return Ok(Err(Invalid::Exists));
    }
    let row = by_id(conn, clinic, &id)
        .await?
        .context("the canned response just stored")?;
    Ok(Ok(row))
}

/// Replaces a canned response's shortcut, title and body. `Ok(Ok(None))`: no such canned
/// response in this clinic.
pub async fn update(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    id: &str,
    d: Draft<'_>,
    now_ms: i64,
) -> anyhow::Result<Result<Option<Canned>, Invalid>> {
    let c = match check(&d) {
        Ok(c) => c,
        Err(e) => return Ok(Err(e)),
    };
    // Asked first, so the UPDATE never trips the unique constraint (which would leave a
    // PostgreSQL transaction unusable).
    let taken: Option<String> = sqlx::query_scalar(
        "SELECT id FROM canned_responses WHERE clinic_id = $1 AND shortcut_key = $2 AND id <> $3",
    )
    .bind(clinic.as_str())
    .bind(&c.shortcut_key)
    .bind(id)
    .fetch_optional(&mut *conn)
    .await
    .context("checking a canned response's shortcut is free")?;
    if taken.is_some() {
        return Ok(Err(Invalid::Exists));
    }
    let done = sqlx::query(
        "UPDATE canned_responses SET shortcut = $1, shortcut_key = $2, title = $3, title_key = $4,
            body = $5, updated_at = $6
         WHERE id = $7 AND clinic_id = $8",
    )
    .bind(&c.shortcut)
    .bind(&c.shortcut_key)
    .bind(&c.title)
    .bind(&c.title_key)
    .bind(&c.body)
    .bind(now_ms)
    .bind(id)
    .bind(clinic.as_str())
    .execute(&mut *conn)
    .await
    .context("updating a canned response")?;
    if done.rows_affected() == 0 {
        return Ok(Ok(None));
    }
    Ok(Ok(by_id(conn, clinic, id).await?))
}

/// `false`: no such canned response in this clinic.
pub async fn delete(conn: &mut AnyConnection, clinic: &ClinicId, id: &str) -> anyhow::Result<bool> {
    let done = sqlx::query("DELETE FROM canned_responses WHERE id = $1 AND clinic_id = $2")
        .bind(id)
        .bind(clinic.as_str())
        .execute(conn)
        .await
        .context("deleting a canned response")?;
    Ok(done.rows_affected() > 0)
}

pub async fn by_id(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    id: &str,
) -> anyhow::Result<Option<Canned>> {
    sqlx::query_as(&format!(
        "SELECT {COLS} FROM canned_responses WHERE id = $1 AND clinic_id = $2"
    ))
    .bind(id)
    .bind(clinic.as_str())
    .fetch_optional(conn)
    .await
    .context("looking up a canned response")
}

/// The clinic's canned responses by shortcut.
pub async fn list(conn: &mut AnyConnection, clinic: &ClinicId) -> anyhow::Result<Vec<Canned>> {
    sqlx::query_as(&format!(
        "SELECT {COLS} FROM canned_responses WHERE clinic_id = $1 ORDER BY shortcut_key, id"
    ))
    .bind(clinic.as_str())
    .fetch_all(conn)
    .await
    .context("listing the clinic's canned responses")
}

/// What the picker offers for the text typed after `/`: shortcuts that start with it first,
/// then shortcuts or titles that contain it, at most [`PICKER_LIMIT`]. A clinic has tens of
/// these, not thousands, so the filter runs here on the list rather than in SQL.
pub async fn matching(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    query: &str,
) -> anyhow::Result<Vec<Canned>> {
    let q = search_form(query);
    let all = list(conn, clinic).await?;
    let (mut first, rest): (Vec<Canned>, Vec<Canned>) = all
        .into_iter()
        .partition(|c| c.shortcut_key.starts_with(&q));
    first.extend(
        rest.into_iter()
            .filter(|c| c.shortcut_key.contains(&q) || c.title_key.contains(&q)),
    );
    first.truncate(PICKER_LIMIT);
    Ok(first)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draft<'a>(shortcut: &'a str, body: &'a str) -> Draft<'a> {
        Draft {
            shortcut,
            title: "駐車場のご案内",
            body,
        }
    }

    #[test]
    fn a_shortcut_is_kept_without_its_slash_and_keyed_in_search_form() {
        let c = check(&draft("/ﾁｭｳｼｬ", "建物の裏です。")).map(|c| (c.shortcut, c.shortcut_key));
        assert_eq!(c, Ok(("ﾁｭｳｼｬ".into(), "チュウシャ".into())));
    }

    #[test]
    fn a_shortcut_with_a_space_or_nothing_in_it_is_refused() {
        for s in ["", "/", "駐車 場", "a/b", &"x".repeat(31)] {
            assert_eq!(
                check(&draft(s, "本文")).err(),
                Some(Invalid::Shortcut),
                "{s}"
            );
        }
    }

    #[test]
    fn an_unknown_variable_is_refused_with_its_name() {
        let e = check(&draft("parking", "{{patient.nmae}}様")).err();
        assert_eq!(e, Some(Invalid::UnknownVariable("{{patient.nmae}}".into())));
        let r = e.map(|e| e.refusal());
        assert_eq!(r.map(|r| r.code), Some(Code::UnknownCannedVariable));
    }

    #[test]
    fn an_empty_body_or_title_is_refused() {
        assert_eq!(check(&draft("a", " \n ")).err(), Some(Invalid::Body));
        let d = Draft {
            shortcut: "a",
            title: " ",
            body: "x",
        };
        assert_eq!(check(&d).err(), Some(Invalid::Title));
    }
}
