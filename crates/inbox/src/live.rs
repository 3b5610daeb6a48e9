//! Live inbox updates for open staff pages (SSE). On SQLite (one process) events go through an
//! in-process channel; on PostgreSQL they go through LISTEN/NOTIFY, so a web process sees what a
//! separate worker process did, and every instance sees every event.
use serde::{Deserialize, Serialize};
use sqlx::postgres::PgListener;
use tokio::sync::broadcast;
use tsunagu_store::{Backend, Db};

const CHANNEL: &str = "tsunagu_live";

#[derive(Clone, Debug, Serialize)]
pub struct LiveEvent {
    pub clinic_id: String,
    pub conversation_id: String,
    /// message.created | message.updated | conversation.updated
    pub kind: &'static str,
}

/// The wire form between processes (ids only, never patient data).
#[derive(Deserialize)]
struct WireEvent {
    clinic_id: String,
    conversation_id: String,
    kind: String,
}

fn known_kind(k: &str) -> &'static str {
    match k {
        "message.created" => "message.created",
        "message.updated" => "message.updated",
        _ => "conversation.updated",
    }
}

#[derive(Clone)]
pub struct LiveHub {
    tx: broadcast::Sender<LiveEvent>,
    /// PostgreSQL: publish through NOTIFY and receive our own events back from LISTEN.
    pg: Option<Db>,
}

impl Default for LiveHub {
    fn default() -> Self {
        Self::new()
    }
}

impl LiveHub {
    /// In-process only (one process, or tests).
    pub fn new() -> Self {
        Self {
            tx: broadcast::channel(1024).0,
            pg: None,
        }
    }

    /// Shared between processes when the database is PostgreSQL. Call within a tokio runtime.
    pub fn for_db(db: &Db) -> Self {
        let mut hub = Self::new();
        if db.backend() == Backend::Postgres {
            hub.pg = Some(db.clone());
            tokio::spawn(listen(db.url().to_string(), hub.tx.clone()));
        }
        hub
    }

    /// Nobody listening is fine: pages reload state on connect.
    pub fn publish(&self, e: LiveEvent) {
        match &self.pg {
            None => {
                let _ = self.tx.send(e);
            }
            Some(db) => {
                let db = db.clone();
                tokio::spawn(async move {
                    let payload = serde_json::to_string(&e).unwrap_or_default();
                    let r = sqlx::query("SELECT pg_notify($1, $2)")
                        .bind(CHANNEL)
                        .bind(payload)
                        .execute(db.pool())
                        .await;
                    if let Err(err) = r {
                        tracing::warn!(error = %err, "publishing a live inbox event");
                    }
                });
            }
        }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<LiveEvent> {
        self.tx.subscribe()
    }
}

/// Forwards NOTIFY payloads into the local channel; PgListener reconnects by itself.
async fn listen(url: String, tx: broadcast::Sender<LiveEvent>) {
    let mut listener = loop {
        match PgListener::connect(&url).await {
            Ok(mut l) => match l.listen(CHANNEL).await {
                Ok(()) => break l,
                Err(e) => tracing::warn!(error = %e, "LISTEN for live inbox events"),
            },
            Err(e) => tracing::warn!(error = %e, "connecting for live inbox events"),
        }
        tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    };
    loop {
        match listener.recv().await {
            Ok(n) => {
                if let Ok(w) = serde_json::from_str::<WireEvent>(n.payload()) {
                    let _ = tx.send(LiveEvent {
                        clinic_id: w.clinic_id,
                        conversation_id: w.conversation_id,
                        kind: known_kind(&w.kind),
                    });
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "live inbox listener; retrying");
                tokio::time::sleep(std::time::Duration::from_secs(1)).await;
            }
        }
    }
}
