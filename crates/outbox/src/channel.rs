//! The one way to load a channel for work on it (a webhook, a send, a download): its row, its
//! provider's adapter and its credentials decrypted and typed, kept in memory only for the work.
use anyhow::Context;
use tsunagu_channels::{Adapter, ChannelKind, Credentials};
use tsunagu_core::{ChannelId, ClinicId};
use tsunagu_privacy::crypto::Cipher;
use tsunagu_store::channels::{self, Channel, Endpoints};
use tsunagu_store::Db;

/// A channel ready to use. Its credentials never leave memory (no `Debug`).
pub struct LoadedChannel {
    pub row: Channel,
    pub kind: ChannelKind,
    pub adapter: &'static dyn Adapter,
    pub creds: Credentials,
}

impl LoadedChannel {
    pub fn id(&self) -> ChannelId {
        ChannelId::from_db(self.row.id.clone())
    }

    pub fn clinic(&self) -> ClinicId {
        self.row.clinic()
    }

    pub fn endpoints(&self) -> Endpoints {
        self.row.endpoints()
    }

    pub fn enabled(&self) -> bool {
        self.row.enabled != 0
    }
}

/// What loading found.
pub enum Found {
    Channel(Box<LoadedChannel>),
    /// No such channel (in this clinic, when one is given).
    Missing,
    /// A kind no adapter serves: refuse it, never guess (fail closed).
    UnknownKind(String),
}

/// Loads `id`, within `clinic` when given (a job names its clinic; a webhook URL does not).
pub async fn load(
    db: &Db,
    cipher: &Cipher,
    clinic: Option<&ClinicId>,
    id: &ChannelId,
) -> anyhow::Result<Found> {
    let mut conn = db.pool().acquire().await?;
    let row = match clinic {
        Some(c) => channels::by_id(&mut conn, c, id).await?,
        None => channels::by_id_unscoped(&mut conn, id).await?,
    };
    drop(conn);
    let Some(row) = row else {
        return Ok(Found::Missing);
    };
    let Some(kind) = ChannelKind::parse(&row.kind) else {
        return Ok(Found::UnknownKind(row.kind));
    };
    let adapter = kind.adapter();
    let stored = cipher
        .decrypt_json(&row.credentials_enc)
        .context("decrypting the channel credentials")?;
    let creds = adapter.credentials(&stored)?;
    Ok(Found::Channel(Box::new(LoadedChannel {
        row,
        kind,
        adapter,
        creds,
    })))
}
