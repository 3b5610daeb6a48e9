use std::ops::Deref;
use std::sync::Arc;
use tsunagu_core::config::Settings;
use tsunagu_core::SharedClock;
use tsunagu_inbox::live::LiveHub;
use tsunagu_privacy::Cipher;
use tsunagu_store::Db;

use crate::channel_cache::ChannelCache;

/// Everything a handler needs (fields through `Shared`); one reference count to clone: the
/// router clones the state for every layer a request passes, which with a dozen handles inside
/// (and the cipher's key schedule) cost more than a webhook's signature check. No state here
/// that another instance could not see (sessions, throttles and jobs live in the database) but
/// the seconds-long channel cache.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

pub struct Shared {
    pub db: Db,
    pub settings: Arc<Settings>,
    pub clock: SharedClock,
    pub cipher: Cipher,
    pub live: LiveHub,
    pub templates: Arc<minijinja::Environment<'static>>,
    /// Bounds concurrent argon2 checks to the cores, so a burst of sign-ins cannot starve the
    /// blocking pool (each check takes tens of milliseconds of CPU).
    pub password_checks: Arc<tokio::sync::Semaphore>,
    /// Channels loaded for webhooks, kept for seconds (`channel_cache`: this instance's own
    /// changes drop them at once).
    pub channel_cache: ChannelCache,
}

impl Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

impl AppState {
    pub fn new(
        db: Db,
        settings: Arc<Settings>,
        clock: SharedClock,
        cipher: Cipher,
        live: LiveHub,
    ) -> Self {
        Self(Arc::new(Shared {
            db,
            settings,
            clock,
            cipher,
            live,
            templates: Arc::new(crate::assets::templates()),
            password_checks: Arc::new(tokio::sync::Semaphore::new(
                std::thread::available_parallelism().map_or(2, |n| n.get()),
            )),
            channel_cache: ChannelCache::default(),
        }))
    }

    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }
}
