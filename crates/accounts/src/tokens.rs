//! API tokens: `tsu_` + 32 random bytes (URL-safe base64). Only the SHA-256 of a token is
//! stored, so a leaked database does not leak working tokens; the plaintext is shown once, at
//! creation. A token belongs to one clinic and carries scopes (`TokenScope`).
//!
//! A plain SHA-256 (not argon2) is enough here: the token has 256 bits of entropy, so there is
//! nothing to brute-force, and lookups by hash stay one indexed query per request.
use anyhow::Context;
use sqlx::{AnyConnection, FromRow};
use tsunagu_core::{ClinicId, TokenId, TokenScope};
use tsunagu_store::Db;

use tsunagu_privacy::crypto::{random_token, sha256_hex};

/// Every token starts with this, so secret scanners and people can recognise one.
pub const TOKEN_PREFIX: &str = "tsu_";

/// `last_used_at` is written at most this often per token, so busy integrations do not turn
/// every read into a write.
const LAST_USED_GRANULARITY_MS: i64 = 60_000;

/// A valid, unrevoked token as the API sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenRow {
    pub id: TokenId,
    pub clinic_id: ClinicId,
    pub scopes: Vec<TokenScope>,
}

/// A token as listed for administrators (never the hash or the plaintext).
#[derive(Clone, Debug, serde::Serialize)]
pub struct TokenInfo {
    pub id: String,
    pub name: String,
    pub scopes: Vec<TokenScope>,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

#[derive(FromRow)]
struct Row {
    id: String,
    clinic_id: String,
    name: String,
    scopes: String,
    created_at: i64,
    last_used_at: Option<i64>,
    revoked_at: Option<i64>,
}

fn encode_scopes(scopes: &[TokenScope]) -> String {
    let mut out: Vec<&str> = Vec::new();
    for s in TokenScope::ALL {
        if scopes.contains(&s) {
            out.push(s.as_str());
        }
    }
    out.join(",")
}

/// Unknown words are dropped: a scope we no longer know grants nothing (fail closed).
fn decode_scopes(stored: &str) -> Vec<TokenScope> {
    stored
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect()
}

/// Creates a token for `clinic` and returns its id and the plaintext, which is never stored
/// and cannot be shown again.
pub async fn create_token(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    name: &str,
    scopes: &[TokenScope],
    now_ms: i64,
) -> anyhow::Result<(TokenId, String)> {
    let name = name.trim();
    anyhow::ensure!(!name.is_empty(), "a token needs a name");
    anyhow::ensure!(
        !scopes.is_empty(),
        "a token needs at least one scope (admin, read, reply, broadcast)"
    );
    let id = TokenId::new();
    let plaintext = format!("{TOKEN_PREFIX}{}", random_token(32));
    sqlx::query(
        "INSERT INTO api_tokens (id, clinic_id, name, token_hash, scopes, created_at, last_used_at, revoked_at)
         VALUES ($1, $2, $3, $4, $5, $6, NULL, NULL)",
    )
    .bind(id.as_str())
    .bind(clinic.as_str())
    .bind(name)
    .bind(sha256_hex(plaintext.as_bytes()))
    .bind(encode_scopes(scopes))
    .bind(now_ms)
    .execute(conn)
    .await
    .context("creating the API token")?;
    Ok((id, plaintext))
}

/// The token behind a bearer value, or `None` when it is malformed, unknown or revoked.
/// Records the use (`last_used_at`) at most once a minute.
pub async fn authenticate(
    db: &Db,
    plaintext: &str,
    now_ms: i64,
) -> anyhow::Result<Option<TokenRow>> {
    // Cheap checks first: a value that cannot be one of ours never reaches the database.
    let Some(body) = plaintext.strip_prefix(TOKEN_PREFIX) else {
        return Ok(None);
    };
    if body.is_empty()
        || body.len() > 128
        || !body
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    {
        return Ok(None);
    }
    let hash = sha256_hex(plaintext.as_bytes());
    let mut conn = db
        .pool()
        .acquire()
        .await
        .context("acquiring a connection to check the API token")?;
    let row: Option<Row> = sqlx::query_as(
        "SELECT id, clinic_id, name, scopes, created_at, last_used_at, revoked_at
         FROM api_tokens WHERE token_hash = $1 AND revoked_at IS NULL",
    )
    .bind(&hash)
    .fetch_optional(&mut *conn)
    .await
    .context("looking up the API token")?;
    drop(conn);
    let Some(row) = row else { return Ok(None) };
    if row
        .last_used_at
        .is_none_or(|t| t <= now_ms - LAST_USED_GRANULARITY_MS)
    {
        // A writing transaction, so SQLite's single writer slot is respected. The condition is
        // repeated in SQL so concurrent requests write once.
        let mut tx = db.begin().await?;
        sqlx::query(
            "UPDATE api_tokens SET last_used_at = $1
             WHERE id = $2 AND (last_used_at IS NULL OR last_used_at <= $3)",
        )
        .bind(now_ms)
        .bind(&row.id)
        .bind(now_ms - LAST_USED_GRANULARITY_MS)
        .execute(tx.conn())
        .await
        .context("recording the API token's use")?;
        tx.commit().await?;
    }
    Ok(Some(TokenRow {
        id: TokenId::from_db(row.id),
        clinic_id: ClinicId::from_db(row.clinic_id),
        scopes: decode_scopes(&row.scopes),
    }))
}

/// Revokes a clinic's token; `false` when there is no such live token in that clinic.
pub async fn revoke(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    id: &TokenId,
    now_ms: i64,
) -> anyhow::Result<bool> {
    let r = sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND clinic_id = $3 AND revoked_at IS NULL")
        .bind(now_ms)
        .bind(id.as_str())
        .bind(clinic.as_str())
        .execute(conn)
        .await
        .context("revoking the API token")?;
    Ok(r.rows_affected() == 1)
}

/// A clinic's tokens, oldest first, revoked ones included.
pub async fn list(conn: &mut AnyConnection, clinic: &ClinicId) -> anyhow::Result<Vec<TokenInfo>> {
    let rows: Vec<Row> = sqlx::query_as(
        "SELECT id, clinic_id, name, scopes, created_at, last_used_at, revoked_at
         FROM api_tokens WHERE clinic_id = $1 ORDER BY id",
    )
    .bind(clinic.as_str())
    .fetch_all(conn)
    .await
    .context("listing the clinic's API tokens")?;
    Ok(rows
        .into_iter()
        .map(|r| TokenInfo {
            scopes: decode_scopes(&r.scopes),
            id: r.id,
            name: r.name,
            created_at: r.created_at,
            last_used_at: r.last_used_at,
            revoked_at: r.revoked_at,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_are_stored_in_a_fixed_order_without_repeats() {
        let s = encode_scopes(&[TokenScope::Reply, TokenScope::Read, TokenScope::Reply]);
        assert_eq!(s, "read,reply");
        assert_eq!(decode_scopes(&s), vec![TokenScope::Read, TokenScope::Reply]);
    }

    #[test]
    fn an_unknown_stored_scope_grants_nothing() {
        assert_eq!(decode_scopes("read,superuser,"), vec![TokenScope::Read]);
    }
}
