use std::sync::Arc;
use tsunagu_core::config::Settings;
use tsunagu_core::SharedClock;
use tsunagu_inbox::live::LiveHub;
use tsunagu_privacy::Cipher;
use tsunagu_store::Db;

/// Everything a handler needs; cheap to clone. No state here that another instance could not
/// see: sessions, throttles and jobs live in the database.
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub settings: Arc<Settings>,
    pub clock: SharedClock,
    pub cipher: Cipher,
    pub live: LiveHub,
    pub templates: Arc<minijinja::Environment<'static>>,
    /// Bounds concurrent argon2 checks to the cores, so a burst of sign-ins cannot starve the
    /// blocking pool (each check takes tens of milliseconds of CPU).
    pub password_checks: Arc<tokio::sync::Semaphore>,
}

impl AppState {
    pub fn new(
        db: Db,
        settings: Arc<Settings>,
        clock: SharedClock,
        cipher: Cipher,
        live: LiveHub,
    ) -> Self {
        Self {
            db,
            settings,
            clock,
            cipher,
            live,
            templates: Arc::new(crate::assets::templates()),
            password_checks: Arc::new(tokio::sync::Semaphore::new(
                std::thread::available_parallelism().map_or(2, |n| n.get()),
            )),
        }
    }

    pub fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }
}
