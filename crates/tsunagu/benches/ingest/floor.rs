//! The floor: the simplest durable webhook server. Per channel it reads the body, verifies the
//! provider's signature and parses the delivery with the same `tsunagu_channels` code tsunagu
//! uses, inserts the delivery's id and raw body once, commits (SQLite WAL, synchronous=FULL, one
//! connection, so one commit per request) and answers 200. No patients, conversations or jobs.
use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use axum::body::Bytes;
use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::SqlitePool;
use tokio::net::TcpListener;
use tsunagu_channels::ChannelKind;
use tsunagu_channels::{line, messenger, sms, whatsapp};
use tsunagu_core::{Clock, SystemClock};

use crate::deliveries::{LINE_SECRET, META_APP_SECRET, TWILIO_TOKEN};

#[derive(Clone)]
pub struct Floor {
    pool: SqlitePool,
    /// `http://127.0.0.1:port`: Twilio signs the URL it called.
    pub base: String,
}

impl Floor {
    pub async fn start(dir: &Path) -> anyhow::Result<Floor> {
        let opts = SqliteConnectOptions::new()
            .filename(dir.join("floor.db"))
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(5));
        // One connection: SQLite has one writer, and the pool is the simplest queue in front of it.
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .connect_with(opts)
            .await?;
        sqlx::query(
            "CREATE TABLE IF NOT EXISTS webhook_events (id INTEGER PRIMARY KEY, kind TEXT NOT NULL,
             event_id TEXT NOT NULL, body TEXT NOT NULL, received_at INTEGER NOT NULL,
             UNIQUE (kind, event_id))",
        )
        .execute(&pool)
        .await
        .context("creating the floor's table")?;
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let floor = Floor {
            pool,
            base: format!("http://{}", listener.local_addr()?),
        };
        let app = axum::Router::new()
            .route("/webhooks/{kind}", axum::routing::post(receive))
            .with_state(floor.clone());
        tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                eprintln!("floor stopped: {e}");
            }
        });
        Ok(floor)
    }

    pub fn url(&self, kind: ChannelKind) -> String {
        format!("{}/webhooks/{}", self.base, kind.as_str())
    }

    /// Rows stored for `kind`: (all, distinct ids).
    pub async fn stored(&self, kind: ChannelKind) -> anyhow::Result<(i64, i64)> {
        let row: (i64, i64) = sqlx::query_as(
            "SELECT COUNT(*), COUNT(DISTINCT event_id) FROM webhook_events WHERE kind = $1",
        )
        .bind(kind.as_str())
        .fetch_one(&self.pool)
        .await?;
        Ok(row)
    }
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The delivery's id and raw body once verified and parsed; the error is the status to answer.
fn verified(
    floor: &Floor,
    kind: ChannelKind,
    uri: &Uri,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<(String, String), StatusCode> {
    let (unauthorized, bad) = (StatusCode::UNAUTHORIZED, StatusCode::BAD_REQUEST);
    let raw = || String::from_utf8_lossy(body).into_owned();
    match kind {
        ChannelKind::Line => {
            if !line::signature::verify(LINE_SECRET, body, header(headers, "x-line-signature")) {
                return Err(unauthorized);
            }
            let parsed = line::events::parse(body).map_err(|_| bad)?;
            let event = parsed.events.first().ok_or(bad)?;
            Ok((event.webhook_event_id.clone(), event.raw.to_string()))
        }
        ChannelKind::WhatsApp => {
            let sig = header(headers, "x-hub-signature-256");
            if !whatsapp::signature::verify(META_APP_SECRET, body, sig) {
                return Err(unauthorized);
            }
            let parsed = whatsapp::events::parse(body).map_err(|_| bad)?;
            let message = parsed.messages.first().ok_or(bad)?;
            Ok((message.wamid.clone(), raw()))
        }
        ChannelKind::Messenger => {
            let sig = header(headers, "x-hub-signature-256");
            if !messenger::signature::verify(META_APP_SECRET, body, sig) {
                return Err(unauthorized);
            }
            let parsed = messenger::parse(body).map_err(|_| bad)?;
            let event = parsed.events.first().ok_or(bad)?;
            Ok((event.dedupe_key.clone(), raw()))
        }
        ChannelKind::Sms => {
            let form: Vec<(String, String)> =
                url::form_urlencoded::parse(body).into_owned().collect();
            let url = format!("{}{}", floor.base, uri.path());
            let sig = header(headers, "x-twilio-signature");
            if !sms::signature::verify(TWILIO_TOKEN, &url, &form, sig) {
                return Err(unauthorized);
            }
            let parsed = sms::inbound::parse(&form).map_err(|_| bad)?;
            Ok((parsed.message_sid, raw()))
        }
    }
}

async fn receive(
    State(floor): State<Floor>,
    UrlPath(kind): UrlPath<String>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> StatusCode {
    let Some(kind) = ChannelKind::parse(&kind) else {
        return StatusCode::NOT_FOUND;
    };
    let (event_id, raw) = match verified(&floor, kind, &uri, &headers, &body) {
        Ok(v) => v,
        Err(status) => return status,
    };
    let stored = sqlx::query(
        "INSERT INTO webhook_events (kind, event_id, body, received_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (kind, event_id) DO NOTHING",
    )
    .bind(kind.as_str())
    .bind(event_id)
    .bind(raw)
    .bind(SystemClock.now_ms())
    .execute(&floor.pool)
    .await;
    match stored {
        Ok(_) => StatusCode::OK,
        Err(_) => StatusCode::INTERNAL_SERVER_ERROR,
    }
}
