//! Live inbox updates for open staff pages (SSE). On SQLite (one process) events go through an
//! in-process channel; on PostgreSQL they go through LISTEN/NOTIFY, so a web process sees what a
//! separate worker process did, and every instance sees every event. Pages are told to resync
//! after any gap the hub cannot account for, and their feeds end when the server stops.
mod feed;
mod listen;
pub mod presence;

use serde::Serialize;
use tokio::sync::{broadcast, watch};
use tsunagu_store::{Backend, Db};

pub use feed::{Feed, Update};
use presence::{Activity, Beat, Board};

const CHANNEL: &str = "tsunagu_live";

#[derive(Clone, Debug, Serialize)]
pub struct LiveEvent {
    pub clinic_id: String,
    pub conversation_id: String,
    /// message.created | message.updated | conversation.updated | presence.changed
    pub kind: &'static str,
}

#[derive(Clone)]
pub struct LiveHub {
    tx: broadcast::Sender<LiveEvent>,
    signals: watch::Sender<feed::Signals>,
    /// PostgreSQL: publish through NOTIFY and receive our own events back from LISTEN.
    pg: Option<Db>,
    /// Who has which conversation open, as heard from every instance.
    board: Board,
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
            signals: watch::channel(feed::Signals::default()).0,
            pg: None,
            board: Board::default(),
        }
    }

    /// Shared between processes when the database is PostgreSQL. Call within a tokio runtime.
    pub fn for_db(db: &Db) -> Self {
        let mut hub = Self::new();
        if db.backend() == Backend::Postgres {
            hub.pg = Some(db.clone());
            let (url, tx, signals) = (db.url().to_string(), hub.tx.clone(), hub.signals.clone());
            tokio::spawn(listen::listen(url, tx, signals, hub.board.clone()));
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
                let (db, signals) = (db.clone(), self.signals.clone());
                tokio::spawn(async move {
                    let payload = serde_json::to_string(&e).unwrap_or_default();
                    let r = sqlx::query("SELECT pg_notify($1, $2)")
                        .bind(CHANNEL)
                        .bind(payload)
                        .execute(db.pool())
                        .await;
                    if let Err(err) = r {
                        // Lost for every instance; at least this one's pages reload.
                        tracing::warn!(error = %err, "publishing a live inbox event");
                        feed::resync(&signals);
                    }
                });
            }
        }
    }

    /// A page says its staff member is viewing or typing in a conversation. Pages are told
    /// (`presence.changed`) only when what others see changes; on PostgreSQL every beat also
    /// goes to the other instances, whose boards need it to keep the entry alive.
    pub fn beat(&self, b: Beat) {
        if self.board.record(&b) {
            let _ = self.tx.send(LiveEvent {
                clinic_id: b.clinic_id.clone(),
                conversation_id: b.conversation_id.clone(),
                kind: "presence.changed",
            });
        }
        if let Some(db) = &self.pg {
            let db = db.clone();
            tokio::spawn(async move {
                let mut wire = serde_json::to_value(&b).unwrap_or_default();
                wire["kind"] = listen::BEAT_KIND.into();
                let r = sqlx::query("SELECT pg_notify($1, $2)")
                    .bind(CHANNEL)
                    .bind(wire.to_string())
                    .execute(db.pool())
                    .await;
                if let Err(err) = r {
                    // Other instances miss one beat; the next one comes within seconds.
                    tracing::warn!(error = %err, "publishing a presence beat");
                }
            });
        }
    }

    /// Staff ids with the conversation open at `now`, and what they are doing.
    pub fn present(
        &self,
        clinic_id: &str,
        conversation_id: &str,
        now: i64,
    ) -> Vec<(String, Activity)> {
        self.board.present(clinic_id, conversation_id, now)
    }

    /// The raw events (tests, and code that needs no resync).
    pub fn subscribe(&self) -> broadcast::Receiver<LiveEvent> {
        self.tx.subscribe()
    }

    /// What an open page follows: events, resyncs, and an end when the server stops.
    pub fn feed(&self) -> Feed {
        Feed::new(self.tx.subscribe(), self.signals.subscribe())
    }

    /// The server is stopping: every feed ends, so graceful shutdown need not wait for open
    /// pages (their browsers reconnect, to another instance behind a load balancer).
    pub fn close(&self) {
        feed::close(&self.signals);
    }
}
