//! PostgreSQL LISTEN for the hub. A NOTIFY sent while the listener's connection is down is lost
//! for good (PgListener reconnects, but says so only as `try_recv` → `Ok(None)`), so every time
//! the hub starts listening again its open pages are told to resync.
use std::time::Duration;

use serde::Deserialize;
use sqlx::postgres::PgListener;
use tokio::sync::{broadcast, watch};

use super::feed::{self, Signals};
use super::presence::{Beat, Board};
use super::{LiveEvent, CHANNEL};

/// A presence beat on the wire (the same channel, another kind).
pub(super) const BEAT_KIND: &str = "presence.beat";

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
        "presence.changed" => "presence.changed",
        "note.mention" => "note.mention",
        "oncall.alert" => "oncall.alert",
        _ => "conversation.updated",
    }
}

/// Forwards NOTIFY payloads into the local channel, for as long as the process runs.
pub(super) async fn listen(
    url: String,
    tx: broadcast::Sender<LiveEvent>,
    signals: watch::Sender<Signals>,
    board: Board,
) {
    loop {
        let mut listener = connect(&url).await;
        // Whatever was sent before this LISTEN (startup, or the connection was down) is lost.
        feed::resync(&signals);
        loop {
            match listener.try_recv().await {
                Ok(Some(n)) => {
                    if let Some(b) = beat(n.payload()) {
                        // Ours come back too; recording again changes nothing.
                        if board.record(&b) {
                            let _ = tx.send(LiveEvent {
                                clinic_id: b.clinic_id,
                                conversation_id: b.conversation_id,
                                kind: "presence.changed",
                            });
                        }
                    } else if let Ok(w) = serde_json::from_str::<WireEvent>(n.payload()) {
                        let _ = tx.send(LiveEvent {
                            clinic_id: w.clinic_id,
                            conversation_id: w.conversation_id,
                            kind: known_kind(&w.kind),
                        });
                    }
                }
                // The connection was lost and PgListener has reconnected and listens again.
                Ok(None) => {
                    tracing::warn!("live inbox listener reconnected; open inboxes resync");
                    feed::resync(&signals);
                }
                // It could not reconnect (or read): start over, and resync once listening.
                Err(e) => {
                    tracing::warn!(error = %e, "live inbox listener lost; reconnecting");
                    break;
                }
            }
        }
    }
}

fn beat(payload: &str) -> Option<Beat> {
    let v: serde_json::Value = serde_json::from_str(payload).ok()?;
    if v.get("kind")?.as_str()? != BEAT_KIND {
        return None;
    }
    serde_json::from_value(v).ok()
}

async fn connect(url: &str) -> PgListener {
    loop {
        match PgListener::connect(url).await {
            Ok(mut l) => match l.listen(CHANNEL).await {
                Ok(()) => return l,
                Err(e) => tracing::warn!(error = %e, "LISTEN for live inbox events"),
            },
            Err(e) => tracing::warn!(error = %e, "connecting for live inbox events"),
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}
