//! How a test asks for its app: settings, clock, whether it listens, the sample clinic, the
//! providers to connect, where in-process requests come from.
use std::net::SocketAddr;
use std::sync::Arc;

use tsunagu::Services;
use tsunagu_channels::ChannelKind;
use tsunagu_core::config::Settings;
use tsunagu_core::{Clock, FakeClock, TokenScope};
use tsunagu_inbox::live::LiveHub;

use super::{Provider, Sample, TestApp, CLINIC_SLUG, KEY, T0};
use crate::test_db;

pub struct Builder {
    settings: Settings,
    clock: i64,
    listen: bool,
    sample_clinic: bool,
    providers: Vec<Provider>,
    local_live: bool,
    peer: Option<SocketAddr>,
}

impl Builder {
    /// Defaults: tsunagu's default settings, except that jobs run only when the test runs them
    /// and channels may point at the emulators on 127.0.0.1 (`[outbound]
    /// allow_private_addresses`; tests of that rule turn it off); the clock at [`T0`]; no
    /// listener, no clinic, no channel.
    pub(crate) fn new() -> Self {
        let mut settings = Settings::default();
        settings.outbox.workers = false;
        settings.outbound.allow_private_addresses = true;
        Builder {
            settings,
            clock: T0,
            listen: false,
            sample_clinic: false,
            providers: Vec::new(),
            local_live: false,
            peer: None,
        }
    }

    /// Changes the settings (`|s| *s = mine` replaces them). A `public_url` set here is kept;
    /// otherwise a listening app's is its own address.
    pub fn settings(mut self, change: impl FnOnce(&mut Settings)) -> Self {
        change(&mut self.settings);
        self
    }

    /// The fake clock's start, in milliseconds since the epoch.
    pub fn clock_ms(mut self, at: i64) -> Self {
        self.clock = at;
        self
    }

    /// Serve HTTP on 127.0.0.1:0 as well (webhook signatures are checked against the real URL).
    pub fn listen(mut self) -> Self {
        self.listen = true;
        self
    }

    /// The clinic さくら内科 (`sakura`) and an `admin` API token of it.
    pub fn sample_clinic(mut self) -> Self {
        self.sample_clinic = true;
        self
    }

    /// For each kind, its emulator and a channel of the sample clinic connected to it, with the
    /// sample's secrets. Implies [`Builder::sample_clinic`] and [`Builder::listen`].
    pub fn with_channels(mut self, kinds: &[ChannelKind]) -> Self {
        for &kind in kinds {
            self = self.channel(kind);
        }
        self
    }

    /// One provider, e.g. with secrets of the test's own (`whatsapp::Fixture { .. }`).
    pub fn channel(mut self, provider: impl Into<Provider>) -> Self {
        self.providers.push(provider.into());
        self.sample_clinic = true;
        self.listen = true;
        self
    }

    /// Live inbox events stay in this process even on PostgreSQL (no NOTIFY round trip), so a
    /// test can read them as soon as a request returns.
    pub fn local_live_events(mut self) -> Self {
        self.local_live = true;
        self
    }

    /// The address in-process requests and staff sessions come from (port 40000).
    pub fn client_ip(mut self, ip: &str) -> Self {
        self.peer = Some(format!("{ip}:40000").parse().expect("an IP address"));
        self
    }

    pub async fn start(self) -> TestApp {
        let Builder {
            mut settings,
            clock,
            listen,
            sample_clinic,
            providers,
            local_live,
            peer,
        } = self;
        let t = test_db().await;
        let db = t.db.clone();
        let clock = FakeClock::new(tsunagu_core::clock::from_ms(clock));
        let listener = match listen {
            true => Some(tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap()),
            false => None,
        };
        let base = listener
            .as_ref()
            .map(|l| format!("http://{}", l.local_addr().unwrap()));
        if settings.public_url.is_none() {
            settings.public_url = base.clone();
        }
        let shared = Arc::new(clock.clone());
        let services = match local_live {
            true => Services::with_live(db.clone(), settings, shared, &KEY, LiveHub::new()),
            false => Services::with_db(db.clone(), settings, shared, &KEY),
        };
        let sample = match sample_clinic {
            true => Some(sample(&db, clock.now_ms()).await),
            false => None,
        };
        let stop = listener.map(|listener| {
            let (stop, rx) = tokio::sync::watch::channel(false);
            tokio::spawn(services.clone().run(listener, rx));
            stop
        });
        let mut app = TestApp {
            router: tsunagu_web::router(services.state.clone()),
            live: services.state.live.clone(),
            services,
            db,
            clock,
            http: reqwest::Client::new(),
            peer,
            base,
            sample,
            line: None,
            whatsapp: None,
            messenger: None,
            sms: None,
            _db: t,
            _stop: stop,
        };
        for p in providers {
            p.connect(&mut app).await;
        }
        app
    }
}

async fn sample(db: &tsunagu_store::Db, now: i64) -> Sample {
    let spec = tsunagu::admin::ClinicSpec {
        slug: CLINIC_SLUG,
        name: "さくら内科",
        timezone: "Asia/Tokyo",
        locale: "ja",
        org: None,
    };
    let clinic = tsunagu::admin::create_clinic(db, spec, now).await.unwrap();
    let scopes = [TokenScope::Admin];
    let (_, api_token) = tsunagu::admin::create_token(db, CLINIC_SLUG, "tests", &scopes, now)
        .await
        .unwrap();
    Sample { clinic, api_token }
}
