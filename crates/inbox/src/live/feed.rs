//! One open page's view of the hub: the events, plus "resync" when the hub knows it may have
//! missed some (the page then reloads what it shows), and an end when the server stops (the
//! browser reconnects, to another instance behind a load balancer).
use tokio::sync::broadcast::{self, error::RecvError};
use tokio::sync::watch;

use super::LiveEvent;

/// What the hub tells every feed at once (a `watch`, so a feed sees the latest, never a queue).
#[derive(Clone, Copy, Default)]
pub(super) struct Signals {
    /// Bumped after each gap the hub cannot account for.
    resyncs: u64,
    /// The server is stopping: feeds end.
    closed: bool,
}

/// Tells every open feed to resync.
pub(super) fn resync(signals: &watch::Sender<Signals>) {
    signals.send_modify(|s| s.resyncs = s.resyncs.wrapping_add(1));
}

/// Ends every open feed and each one opened later.
pub(super) fn close(signals: &watch::Sender<Signals>) {
    signals.send_modify(|s| s.closed = true);
}

/// What an open page is told.
#[derive(Clone, Debug)]
pub enum Update {
    Event(LiveEvent),
    /// Events may have been lost (a lagging page, the database listener reconnected): reload.
    Resync,
}

pub struct Feed {
    events: broadcast::Receiver<LiveEvent>,
    signals: watch::Receiver<Signals>,
    /// The hub's resync count this feed has already passed on.
    resyncs: u64,
}

impl Feed {
    pub(super) fn new(
        events: broadcast::Receiver<LiveEvent>,
        mut signals: watch::Receiver<Signals>,
    ) -> Self {
        let resyncs = signals.borrow_and_update().resyncs;
        Self {
            events,
            signals,
            resyncs,
        }
    }

    /// The next update; `None` once the hub is closed (the server is stopping).
    pub async fn next(&mut self) -> Option<Update> {
        loop {
            let now = *self.signals.borrow_and_update();
            if now.closed {
                return None;
            }
            if now.resyncs != self.resyncs {
                self.resyncs = now.resyncs;
                return Some(Update::Resync);
            }
            tokio::select! {
                biased;
                changed = self.signals.changed() => {
                    if changed.is_err() {
                        return None;
                    }
                }
                got = self.events.recv() => {
                    return match got {
                        Ok(e) => Some(Update::Event(e)),
                        // This page fell behind: it reloads rather than trust the gap.
                        Err(RecvError::Lagged(_)) => Some(Update::Resync),
                        Err(RecvError::Closed) => None,
                    };
                }
            }
        }
    }
}
