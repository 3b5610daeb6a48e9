//! The LINE Login channel linked to a LINE channel: its channel id (a number from the LINE
//! Developers console) and its secret, encrypted with the configured key.
use anyhow::Context;
use sqlx::AnyConnection;
use tsunagu_core::{ClinicId, Code, Refusal};
use tsunagu_privacy::Cipher;

/// A linked Login channel, its secret readable.
#[derive(Clone)]
pub struct Link {
    /// The LINE (Messaging API) channel's id in tsunagu.
    pub channel_id: String,
    /// The Login channel's id (`client_id`).
    pub login_channel_id: String,
    pub secret: String,
}

impl std::fmt::Debug for Link {
    // The secret must never reach a log.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Link")
            .field("channel_id", &self.channel_id)
            .field("login_channel_id", &self.login_channel_id)
            .finish_non_exhaustive()
    }
}

/// The Login channel id and secret as typed, checked: the id is the console's number (digits),
/// the secret 32 hex characters.
pub fn check(login_channel_id: &str, secret: &str) -> Result<(String, String), Refusal> {
    let id = login_channel_id.trim();
    let secret = secret.trim();
    let id_ok = (6..=20).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_digit());
    let secret_ok = secret.len() == 32 && secret.bytes().all(|b| b.is_ascii_hexdigit());
    if !id_ok || !secret_ok {
        return Err(Refusal::new(Code::InvalidLineLogin)
            .detail("the LINE Login channel id is digits and its secret 32 hex characters"));
    }
    Ok((id.to_string(), secret.to_string()))
}

/// The Login channel linked to `channel`, if any (`None` too when the secret no longer reads:
/// the link then acts as absent and the page says so).
pub async fn get(
    conn: &mut AnyConnection,
    cipher: &Cipher,
    clinic: &ClinicId,
    channel: &str,
) -> anyhow::Result<Option<Link>> {
    let row: Option<(String, String)> = sqlx::query_as(
        "SELECT login_channel_id, secret_enc FROM line_login_links WHERE id = $1 AND clinic_id = $2",
    )
    .bind(channel)
    .bind(clinic.as_str())
    .fetch_optional(conn)
    .await
    .context("reading a channel's LINE Login link")?;
    let Some((login_channel_id, enc)) = row else {
        return Ok(None);
    };
    let Ok(secret) = cipher.decrypt(&enc) else {
        tracing::warn!(
            channel,
            "a LINE Login secret does not read with the configured key"
        );
        return Ok(None);
    };
    Ok(Some(Link {
        channel_id: channel.to_string(),
        login_channel_id,
        secret: String::from_utf8_lossy(&secret).into_owned(),
    }))
}

/// The clinic's linked channels: (channel id, Login channel id), no secrets.
pub async fn list(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
) -> anyhow::Result<Vec<(String, String)>> {
    sqlx::query_as("SELECT id, login_channel_id FROM line_login_links WHERE clinic_id = $1")
        .bind(clinic.as_str())
        .fetch_all(conn)
        .await
        .context("listing the LINE Login links")
}

/// Links (or re-links) a Login channel to `channel`, which the caller checked is the clinic's.
pub async fn set(
    conn: &mut AnyConnection,
    cipher: &Cipher,
    clinic: &ClinicId,
    channel: &str,
    (login_channel_id, secret): (&str, &str),
    now_ms: i64,
) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO line_login_links (id, clinic_id, login_channel_id, secret_enc, updated_at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (id) DO UPDATE SET login_channel_id = excluded.login_channel_id,
           secret_enc = excluded.secret_enc, updated_at = excluded.updated_at",
    )
    .bind(channel)
    .bind(clinic.as_str())
    .bind(login_channel_id)
    .bind(cipher.encrypt(secret.as_bytes()))
    .bind(now_ms)
    .execute(conn)
    .await
    .context("storing a channel's LINE Login link")?;
    Ok(())
}

/// Unlinks: the channel's sources go back to the prefilled message. `false` if none was linked.
pub async fn remove(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    channel: &str,
) -> anyhow::Result<bool> {
    let done = sqlx::query("DELETE FROM line_login_links WHERE id = $1 AND clinic_id = $2")
        .bind(channel)
        .bind(clinic.as_str())
        .execute(conn)
        .await
        .context("removing a channel's LINE Login link")?;
    Ok(done.rows_affected() > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_login_channel_is_its_console_number_and_a_32_hex_secret() {
        let secret = "0123456789abcdef0123456789ABCDEF";
        assert_eq!(
            check(" 1660000000 ", &format!(" {secret} ")),
            Ok(("1660000000".into(), secret.into()))
        );
        for (id, secret) in [
            ("abc", secret),
            ("1660000000", "short"),
            ("", secret),
            ("1660000000", "0123456789abcdef0123456789abcdeg"),
        ] {
            assert_eq!(
                check(id, secret).map_err(|r| r.code),
                Err(Code::InvalidLineLogin),
                "{id} {secret}"
            );
        }
    }
}
