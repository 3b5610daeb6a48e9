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
    /// Opening a conversation marks the patient's messages read with the provider.
    pub mark_read_on_open: i64,
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
    "id, clinic_id, kind, name, credentials_enc, api_base_url, api_data_base_url, settings, enabled, created_at, mark_read_on_open";

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

/// Switches a channel of the clinic on or off; `false` when there is no such channel.
pub async fn set_enabled(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    id: &ChannelId,
    enabled: bool,
) -> anyhow::Result<bool> {
    let done = sqlx::query("UPDATE channels SET enabled = $1 WHERE id = $2 AND clinic_id = $3")
        .bind(i64::from(enabled))
        .bind(id.as_str())
        .bind(clinic.as_str())
        .execute(conn)
        .await
        .context("switching a channel on or off")?;
    Ok(done.rows_affected() > 0)
}

/// Sets whether opening a conversation marks its messages read with the provider; `false` when
/// the clinic has no such channel.
pub async fn set_mark_read_on_open(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    id: &ChannelId,
    on: bool,
) -> anyhow::Result<bool> {
    let done =
        sqlx::query("UPDATE channels SET mark_read_on_open = $1 WHERE id = $2 AND clinic_id = $3")
            .bind(i64::from(on))
            .bind(id.as_str())
            .bind(clinic.as_str())
            .execute(conn)
            .await
            .context("switching read marking on or off")?;
    Ok(done.rows_affected() > 0)
}

/// The clinic-side addresses a channel serves, kept in clear in `settings` (they are not
/// secrets) so webhooks route by them: WhatsApp phone number ids of one Meta app, Facebook
/// pages (or Instagram accounts) of one app, the SMS numbers of one Twilio account.
#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct Endpoints {
    /// WhatsApp Business Account id (templates are managed per account).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waba_id: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub phone_numbers: Vec<PhoneNumberEndpoint>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pages: Vec<PageEndpoint>,
    /// E.164 SMS numbers.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub numbers: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub messaging_service_sid: Option<String>,
}

#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct PhoneNumberEndpoint {
    pub phone_number_id: String,
    #[serde(default)]
    pub display_phone_number: Option<String>,
}

#[derive(Clone, Debug, Default, serde::Serialize, serde::Deserialize, PartialEq, Eq)]
pub struct PageEndpoint {
    pub page_id: String,
    #[serde(default)]
    pub name: Option<String>,
    /// The Instagram professional account linked to the page: Instagram webhooks carry its id,
    /// replies leave through the page (Messenger Platform's Instagram messaging).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instagram_id: Option<String>,
}

impl Endpoints {
    /// Every id an inbound entry may be addressed to.
    pub fn ids(&self) -> Vec<&str> {
        let phones = self
            .phone_numbers
            .iter()
            .map(|p| p.phone_number_id.as_str());
        let pages = self.pages.iter().map(|p| p.page_id.as_str());
        let instagram = self.pages.iter().filter_map(|p| p.instagram_id.as_deref());
        phones
            .chain(pages)
            .chain(instagram)
            .chain(self.numbers.iter().map(String::as_str))
            .collect()
    }

    pub fn serves(&self, id: &str) -> bool {
        self.ids().contains(&id)
    }

    /// Where a message the clinic starts leaves from when the thread has no `via` yet.
    pub fn default_via(&self) -> Option<&str> {
        self.ids().into_iter().next()
    }

    /// The page a Messenger or Instagram entry id belongs to (an Instagram account's page).
    pub fn page_for(&self, id: &str) -> Option<&str> {
        self.pages
            .iter()
            .find(|p| p.page_id == id || p.instagram_id.as_deref() == Some(id))
            .map(|p| p.page_id.as_str())
    }
}

impl Channel {
    pub fn endpoints(&self) -> Endpoints {
        serde_json::from_str(&self.settings).unwrap_or_default()
    }
}
