//! tsunagu itself on SQLite (WAL, durable commits, as configured): the real router and ingest,
//! workers off (this measures the webhook path). Channels are connected the way an administrator
//! does it, `POST /api/v1/channels` with an admin token.
use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use serde_json::{json, Value};
use sqlx::{Connection, Executor};
use tokio::net::TcpListener;
use tsunagu_channels::ChannelKind;
use tsunagu_core::config::Settings;
use tsunagu_core::{Clock, SystemClock, TokenScope};
use tsunagu_store::Db;

use crate::deliveries;

pub struct App {
    db: Db,
    /// The PostgreSQL server and the database made for this run.
    made: Option<(String, String)>,
    base: String,
    token: String,
    http: reqwest::Client,
}

/// A connected channel: its id and the webhook URL tsunagu gave for it.
pub struct Channel {
    pub id: String,
    pub webhook_url: String,
}

impl App {
    /// On SQLite in `dir`, as configured (WAL; the group writer flushes before answering).
    pub async fn sqlite(dir: &Path) -> anyhow::Result<App> {
        App::start(
            &format!("sqlite://{}/tsunagu.db?mode=rwc", dir.display()),
            None,
        )
        .await
    }

    /// On a fresh database of the PostgreSQL server `server_url` names, dropped by `finish`.
    pub async fn postgres(server_url: &str) -> anyhow::Result<App> {
        let name = format!("tsunagu_bench_{}", std::process::id());
        let mut admin = sqlx::PgConnection::connect(server_url)
            .await
            .context("connecting to the PostgreSQL server for the bench")?;
        admin
            .execute(format!("DROP DATABASE IF EXISTS {name}").as_str())
            .await?;
        admin
            .execute(format!("CREATE DATABASE {name}").as_str())
            .await?;
        admin.close().await?;
        let mut url = url::Url::parse(server_url).context("the PostgreSQL URL")?;
        url.set_path(&format!("/{name}"));
        App::start(url.as_str(), Some((server_url.to_owned(), name))).await
    }

    /// Drops the PostgreSQL database `postgres` made (nothing on SQLite: the directory goes).
    pub async fn finish(self) -> anyhow::Result<()> {
        self.db.close().await;
        if let Some((server, name)) = &self.made {
            let mut admin = sqlx::PgConnection::connect(server).await?;
            admin
                .execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
                .await?;
        }
        Ok(())
    }

    /// The base URL of this instance.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// `n` more instances on the same database (each its own pool and router, as separate
    /// `tsunagu serve` processes would be); their base URLs.
    pub async fn more_instances(&self, n: usize) -> anyhow::Result<Vec<String>> {
        let mut bases = Vec::with_capacity(n);
        for _ in 0..n {
            let db = Db::connect(self.db.url()).await?;
            let (base, start) = serve(db).await?;
            start.await;
            bases.push(base);
        }
        Ok(bases)
    }

    async fn start(url: &str, made: Option<(String, String)>) -> anyhow::Result<App> {
        let db = Db::connect_and_migrate(url).await?;
        let (base, services) = serve(db.clone()).await?;
        let now = SystemClock.now_ms();
        let spec = tsunagu::admin::ClinicSpec {
            slug: "bench",
            name: "ベンチ内科",
            timezone: "Asia/Tokyo",
            locale: "ja",
            org: None,
        };
        tsunagu::admin::create_clinic(&db, spec, now).await?;
        let (_, token) =
            tsunagu::admin::create_token(&db, "bench", "bench", &[TokenScope::Admin], now).await?;
        services.await;
        Ok(App {
            db,
            made,
            base,
            token,
            http: reqwest::Client::new(),
        })
    }

    /// Connects a channel of `kind`; nothing is ever sent (workers are off), so its API base
    /// points nowhere.
    pub async fn connect(&self, kind: ChannelKind) -> anyhow::Result<Channel> {
        let resp = self
            .http
            .post(format!("{}/api/v1/channels", self.base))
            .bearer_auth(&self.token)
            .json(&json!({
                "kind": kind.as_str(),
                "name": format!("bench {}", kind.as_str()),
                "credentials": deliveries::credentials(kind),
                "api_base_url": "http://127.0.0.1:9",
            }))
            .send()
            .await
            .with_context(|| format!("connecting the {kind} channel"))?;
        let status = resp.status();
        let created: Value = resp.json().await.unwrap_or_default();
        anyhow::ensure!(
            status == reqwest::StatusCode::CREATED,
            "connecting the {kind} channel: {status} {created}"
        );
        let text = |k: &str| created[k].as_str().unwrap_or_default().to_owned();
        Ok(Channel {
            id: text("id"),
            webhook_url: text("webhook_url"),
        })
    }

    /// What the channel holds: (raw webhook events, distinct provider ids, inbound messages).
    pub async fn stored(&self, channel: &Channel) -> anyhow::Result<(i64, i64, i64)> {
        let count = |sql: &'static str| {
            sqlx::query_scalar::<_, i64>(sql)
                .bind(channel.id.clone())
                .fetch_one(self.db.pool())
        };
        Ok((
            count("SELECT COUNT(*) FROM webhook_events WHERE channel_id = $1 AND state = 'processed'")
                .await?,
            count("SELECT COUNT(DISTINCT provider_event_id) FROM webhook_events WHERE channel_id = $1")
                .await?,
            count("SELECT COUNT(*) FROM messages WHERE channel_id = $1 AND direction = 'in'").await?,
        ))
    }
}

/// Serves tsunagu on `db` at a new port: its base URL, and a future that starts serving (after
/// the caller has prepared the database).
async fn serve(db: Db) -> anyhow::Result<(String, impl std::future::Future<Output = ()>)> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let mut settings = Settings {
        public_url: Some(base.clone()),
        ..Settings::default()
    };
    settings.outbox.workers = false;
    // Its channels point at 127.0.0.1 (nothing is sent; saving them must still pass).
    settings.outbound.allow_private_addresses = true;
    let clock: tsunagu_core::SharedClock = Arc::new(SystemClock);
    let services = tsunagu::Services::with_db(db, settings, clock, &[7u8; 32]);
    let start = async move {
        let (stop, rx) = tokio::sync::watch::channel(false);
        tokio::spawn(async move {
            let _stop = stop; // serve until the benchmark process ends
            if let Err(e) = services.run(listener, rx).await {
                eprintln!("tsunagu stopped: {e:#}");
            }
        });
    };
    Ok((base, start))
}
