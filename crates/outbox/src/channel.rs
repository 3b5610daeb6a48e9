//! The one way to load a channel for work on it (a webhook, a send, a download): its row, its
//! provider's adapter and its credentials decrypted and typed, kept in memory only for the work.
use anyhow::Context;
use tsunagu_channels::provider::{deliver, BadCredentials};
use tsunagu_channels::{Adapter, ChannelKind, Credentials};
use tsunagu_core::{ChannelId, ClinicId};
use tsunagu_privacy::crypto::Cipher;
use tsunagu_store::channels::{self, Channel, Endpoints};
use tsunagu_store::jobs::Job;
use tsunagu_store::Db;

use crate::message_state::clinic_of;
use crate::outcome::Outcome;
use crate::worker::Worker;

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

    /// The channel as its adapter calls through it; `endpoints` are this channel's.
    pub fn view<'a>(
        &'a self,
        http: &'a reqwest::Client,
        endpoints: &'a Endpoints,
        public_base: &'a str,
    ) -> deliver::Channel<'a> {
        deliver::Channel {
            http,
            id: &self.row.id,
            api_base_url: &self.row.api_base_url,
            api_data_base_url: self.row.api_data_base_url.as_deref(),
            creds: &self.creds,
            default_via: endpoints.default_via(),
            messaging_service_sid: endpoints.messaging_service_sid.as_deref(),
            public_base,
        }
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

/// Loads the channel a job works on, in the job's clinic. `Err`: what the job comes to instead:
/// `missing` when the channel is gone; dead for a kind no adapter serves or credentials that do
/// not read as its provider's (fail closed: nothing is sent unchecked); a retry when the
/// database or the key failed (nothing was called yet).
pub(crate) async fn for_job(
    w: &Worker,
    job: &Job,
    id: &ChannelId,
    missing: impl FnOnce() -> Outcome,
) -> anyhow::Result<Result<Box<LoadedChannel>, Outcome>> {
    let clinic = clinic_of(job)?;
    Ok(match load(&w.db, &w.cipher, Some(&clinic), id).await {
        Ok(Found::Channel(ch)) => Ok(ch),
        Ok(Found::Missing) => Err(missing()),
        Ok(Found::UnknownKind(kind)) => Err(Outcome::Dead {
            code: "unsupported_channel_kind",
            error: format!("unknown channel kind {kind}"),
        }),
        Err(e) => match e.downcast_ref::<BadCredentials>() {
            Some(bad) => Err(Outcome::Dead {
                code: "invalid_credentials",
                error: bad.to_string(),
            }),
            None => Err(Outcome::Retry {
                after: None,
                error: format!("loading the channel: {e:#}"),
            }),
        },
    })
}
