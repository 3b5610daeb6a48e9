//! A clinic's accounts on the providers. Credentials arrive here already encrypted.
use anyhow::Context;
use sqlx::{AnyConnection, FromRow};
use tsunagu_core::{new_id, ChannelId, ClinicId};

#[derive(Clone, Debug, FromRow)]
pub struct Channel {
    pub id: String,
    pub clinic_id: String,
    pub kind: String,
    pub name: String,
    pub credentials_enc: String,
    pub api_base_url: String,
    pub api_data_base_url: Option<String>,
    pub settings: String,
    pub enabled: i64,
    pub created_at: i64,
}

impl Channel {
    pub fn channel_id(&self) -> ChannelId {
        ChannelId::from_db(self.id.clone())
    }
    pub fn clinic(&self) -> ClinicId {
        ClinicId::from_db(self.clinic_id.clone())
    }
}

pub struct NewChannel<'a> {
    pub clinic_id: &'a ClinicId,
    pub kind: &'a str,
    pub name: &'a str,
    pub credentials_enc: &'a str,
    pub api_base_url: &'a str,
    pub api_data_base_url: Option<&'a str>,
    pub settings: &'a str,
}

pub async fn create(
    conn: &mut AnyConnection,
    c: NewChannel<'_>,
    now_ms: i64,
) -> anyhow::Result<ChannelId> {
    let id = new_id();
    sqlx::query(
        "INSERT INTO channels (id, clinic_id, kind, name, credentials_enc, api_base_url, api_data_base_url, settings, enabled, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 1, $9)",
    )
    .bind(&id)
    .bind(c.clinic_id.as_str())
    .bind(c.kind)
    .bind(c.name)
    .bind(c.credentials_enc)
    .bind(c.api_base_url)
    .bind(c.api_data_base_url)
    .bind(c.settings)
    .bind(now_ms)
    .execute(conn)
    .await
    .context("creating the channel")?;
    Ok(ChannelId::from_db(id))
}

const COLS: &str =
    "id, clinic_id, kind, name, credentials_enc, api_base_url, api_data_base_url, settings, enabled, created_at";

/// Any clinic's channel: used by the webhook endpoint, whose URL names only the channel.
pub async fn by_id_unscoped(
    conn: &mut AnyConnection,
    id: &ChannelId,
) -> anyhow::Result<Option<Channel>> {
    sqlx::query_as(&format!("SELECT {COLS} FROM channels WHERE id = $1"))
        .bind(id.as_str())
        .fetch_optional(conn)
        .await
        .context("looking up the channel")
}

pub async fn by_id(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    id: &ChannelId,
) -> anyhow::Result<Option<Channel>> {
    sqlx::query_as(&format!(
        "SELECT {COLS} FROM channels WHERE id = $1 AND clinic_id = $2"
    ))
    .bind(id.as_str())
    .bind(clinic.as_str())
    .fetch_optional(conn)
    .await
    .context("looking up the clinic's channel")
}

pub async fn list(conn: &mut AnyConnection, clinic: &ClinicId) -> anyhow::Result<Vec<Channel>> {
    sqlx::query_as(&format!(
        "SELECT {COLS} FROM channels WHERE clinic_id = $1 ORDER BY id"
    ))
    .bind(clinic.as_str())
    .fetch_all(conn)
    .await
    .context("listing the clinic's channels")
}
