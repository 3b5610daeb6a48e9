//! Assembles tsunagu from its parts: settings → database → web state and workers. `main.rs` is
//! a thin command-line shim over this, and the end-to-end tests start the same pieces.
pub mod admin;
pub mod demo;
mod demo_automation;
mod demo_canned;
mod demo_channels;
mod demo_event_rules;
mod demo_routing;
mod demo_safety;
mod demo_satisfaction;
#[cfg(test)]
mod layering_tests;
pub mod oncall_job;
pub mod rotate_key;
mod scheduled_job;
pub mod sms_codes;
mod wake_job;

use std::net::SocketAddr;
use std::sync::Arc;

use anyhow::Context;
use sqlx::AnyConnection;
use tokio::net::TcpListener;
use tsunagu_core::config::Settings;
use tsunagu_core::jobs::PrivacyRetention;
use tsunagu_core::SharedClock;
use tsunagu_inbox::{LiveEvent, LiveHub};
use tsunagu_outbox::worker::Outcome;
use tsunagu_outbox::{JobHandler, Registry, Worker, WorkerConfig};
use tsunagu_privacy::verification::code::{CodeSender, NoCodeChannel, PhoneThenEmail};
use tsunagu_privacy::verification::email::EmailCodeSender;
use tsunagu_privacy::Cipher;
use tsunagu_store::jobs::Job;
use tsunagu_store::Db;
use tsunagu_web::AppState;

/// Everything a running tsunagu needs, built once.
#[derive(Clone)]
pub struct Services {
    pub state: AppState,
    pub worker: Worker,
}

impl Services {
    /// Connects to the configured database, migrates it and wires web state and workers.
    pub async fn start(settings: Settings, clock: SharedClock) -> anyhow::Result<Services> {
        let key = settings.encryption_key()?;
        let url = settings.database_url();
        let db = Db::connect_and_migrate(&url).await.map_err(|e| {
            anyhow::anyhow!("{e:#}\n(the database is chosen by TSUNAGU_DATABASE_URL; check that it is reachable)")
        })?;
        Ok(Self::with_db(db, settings, clock, &key))
    }

    pub fn with_db(db: Db, settings: Settings, clock: SharedClock, key: &[u8; 32]) -> Services {
        let live = LiveHub::for_db(&db);
        Self::with_live(db, settings, clock, key, live)
    }

    /// As [`Services::with_db`], with live inbox events published on `live` (tests keep them
    /// in process, where PostgreSQL would carry them between processes).
    pub fn with_live(
        db: Db,
        settings: Settings,
        clock: SharedClock,
        key: &[u8; 32],
        live: LiveHub,
    ) -> Services {
        let settings = Arc::new(settings);
        let cipher = Cipher::new(key);
        let db_for_codes = db.clone();
        let clock_for_codes = clock.clone();
        let state = AppState::new(
            db.clone(),
            settings.clone(),
            clock.clone(),
            cipher.clone(),
            live.clone(),
        );
        let oncall = oncall_job::EscalateJob {
            live: live.clone(),
            mailer: mailer(&settings),
        };
        let on_change: tsunagu_outbox::worker::OnChange =
            Arc::new(move |clinic: &str, conv: &str| {
                live.publish(LiveEvent {
                    clinic_id: clinic.into(),
                    conversation_id: conv.into(),
                    kind: "message.updated",
                })
            });
        let config = WorkerConfig {
            max_attempts: settings.outbox.max_attempts as i64,
            poll: std::time::Duration::from_secs(settings.outbox.poll_seconds.max(1)),
            lease_ms: settings.outbox.lease_secs.max(1).saturating_mul(1000) as i64,
            shutdown_grace: std::time::Duration::from_secs(settings.outbox.shutdown_grace_secs),
        };
        let http = outbound_client(&settings);
        let worker = Worker {
            db,
            clock,
            cipher,
            http,
            config,
            on_change,
            public_base: settings.public_base(),
            handlers: Arc::new(job_handlers(
                code_sender(&db_for_codes, &settings, clock_for_codes),
                oncall,
            )),
        };
        Services { state, worker }
    }

    /// Serves HTTP on `listener` (and runs the workers if configured) until `shutdown` fires,
    /// then returns once the worker has finished or given back the job in hand (bounded by
    /// `[outbox] shutdown_grace_secs`): a restart leaves no job leased to a dead process.
    pub async fn run(
        self,
        listener: TcpListener,
        shutdown: tokio::sync::watch::Receiver<bool>,
    ) -> anyhow::Result<()> {
        let worker = self.state.settings.outbox.workers.then(|| {
            let grace = self.worker.config.shutdown_grace;
            (
                tokio::spawn(self.worker.clone().run(shutdown.clone())),
                grace,
            )
        });
        let app = tsunagu_web::router(self.state.clone())
            .into_make_service_with_connect_info::<SocketAddr>();
        let mut stop = shutdown.clone();
        let served = axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = stop.wait_for(|s| *s).await;
                // Open inbox streams end (their pages reconnect), so this shutdown can finish.
                self.state.live.close();
            })
            .await
            .context("serving HTTP");
        if let Some((worker, grace)) = worker {
            // The worker stops claiming at the signal and finishes or gives back the job in
            // hand within its grace (begun then); a little more lets it record that.
            let bound = grace + std::time::Duration::from_secs(5);
            match tokio::time::timeout(bound, worker).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => tracing::error!(error = %e, "the outbox worker task failed"),
                Err(_) => tracing::error!("the outbox worker did not stop within its grace"),
            }
        }
        served.map(|_| ())
    }
}

/// The one client for provider calls, guarded by `[outbound]`. Building it reads no system
/// configuration (compiled-in TLS roots, no proxy), so it does not fail; if it ever did, tsunagu
/// stops at startup rather than call providers with an unguarded client.
fn outbound_client(settings: &Settings) -> reqwest::Client {
    let guard = tsunagu_channels::outbound::Outbound::from_settings(&settings.outbound);
    guard
        .client()
        .unwrap_or_else(|e| panic!("the outbound HTTP client could not be built: {e}"))
}

/// Verification codes: a text message through the clinic's SMS channel when it has an enabled
/// one and the record a phone number, else e-mail when `[smtp]` is set, else none (patients are
/// told to use the birth date).
fn code_sender(db: &Db, settings: &Settings, clock: SharedClock) -> Arc<dyn CodeSender> {
    let phone: Arc<dyn CodeSender> = Arc::new(sms_codes::SmsCodeSender::new(db.clone(), clock));
    let email: Arc<dyn CodeSender> = match &settings.smtp {
        None => Arc::new(NoCodeChannel),
        Some(smtp) => match EmailCodeSender::new(db.clone(), smtp) {
            Ok(sender) => Arc::new(sender),
            Err(e) => {
                // Settings::load validated [smtp]; this is only reached by hand-built settings.
                tracing::error!(error = %e, "[smtp] is unusable: codes go by SMS only");
                Arc::new(NoCodeChannel)
            }
        },
    };
    Arc::new(PhoneThenEmail { phone, email })
}

/// On-call e-mails, when `[smtp]` is set.
fn mailer(settings: &Settings) -> Option<Arc<tsunagu_mail::Mailer>> {
    let smtp = settings.smtp.as_ref()?;
    match tsunagu_mail::Mailer::new(smtp) {
        Ok(m) => Some(Arc::new(m)),
        Err(e) => {
            tracing::error!(error = %e, "[smtp] is unusable: on-call alerts go to the browser only");
            None
        }
    }
}

/// Every job kind: the outbox's own, and those run by crates the outbox cannot depend on.
fn job_handlers(codes: Arc<dyn CodeSender>, oncall: oncall_job::EscalateJob) -> Registry {
    let mut handlers = tsunagu_outbox::handlers::registry();
    handlers
        .register(tsunagu_dispatch::InboundDispatcher { codes })
        .register(RetentionJob)
        .register(scheduled_job::ScheduledJob)
        .register(wake_job::WakeJob)
        .register(oncall)
        .register(tsunagu_automation::richmenu::jobs::Publish)
        .register(tsunagu_automation::richmenu::jobs::SetDefault)
        .register(tsunagu_automation::richmenu::jobs::Assign)
        .register(tsunagu_automation::richmenu::jobs::BatchProgress)
        .register(tsunagu_automation::flows::jobs::Timeout)
        .register(tsunagu_automation::flows::jobs::Webhook)
        .register(tsunagu_automation::sequences::jobs::Step)
        .register(tsunagu_automation::sequences::jobs::Triggered)
        .register(tsunagu_automation::satisfaction::jobs::Ask)
        .register(tsunagu_automation::event_rules::jobs::Fire);
    handlers
}

/// The daily `privacy.retention` pass (privacy cannot name the outbox's trait: the outbox
/// depends on privacy). Safe to repeat: each step deletes only what is still past its limit.
struct RetentionJob;

#[async_trait::async_trait]
impl JobHandler for RetentionJob {
    type Job = PrivacyRetention;

    async fn run(&self, worker: &Worker, _: &Job, _: PrivacyRetention) -> anyhow::Result<Outcome> {
        let report =
            tsunagu_privacy::retention::apply_all(&worker.db, worker.clock.now_ms()).await?;
        tracing::info!(clinics = report.len(), "retention pass done");
        Ok(Outcome::Done)
    }

    async fn schedule_daily(&self, conn: &mut AnyConnection, now_ms: i64) -> anyhow::Result<()> {
        tsunagu_privacy::retention::enqueue_daily(conn, now_ms).await?;
        Ok(())
    }
}

/// A watch channel that flips on Ctrl-C or SIGTERM.
pub fn shutdown_signal() -> tokio::sync::watch::Receiver<bool> {
    let (tx, rx) = tokio::sync::watch::channel(false);
    tokio::spawn(async move {
        let ctrl_c = tokio::signal::ctrl_c();
        #[cfg(unix)]
        {
            let mut term =
                match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                    Ok(t) => t,
                    Err(_) => {
                        let _ = ctrl_c.await;
                        let _ = tx.send(true);
                        return;
                    }
                };
            tokio::select! { _ = ctrl_c => {}, _ = term.recv() => {} }
        }
        #[cfg(not(unix))]
        let _ = ctrl_c.await;
        let _ = tx.send(true);
    });
    rx
}
