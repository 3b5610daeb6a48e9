//! Channels loaded for webhooks, kept for a few seconds. Loading one per delivery (a row read,
//! AES-GCM decryption, JSON into typed credentials and endpoints) cost more than verifying the
//! signature; a storm of deliveries names the same few channels, so they are kept for `TTL`.
//!
//! A channel changed on this instance (enabled, disabled) is dropped here at once, so its next
//! delivery loads it anew. Other instances serving the same database keep their copy until it
//! is `TTL` old: a channel disabled elsewhere is refused here within `TTL` (5 s), not at once.
//! Unknown ids are not kept (each loads, and is refused).
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use tsunagu_core::ChannelId;
use tsunagu_inbox::ingest::inbound;
use tsunagu_outbox::channel::{self, Found, LoadedChannel};
use tsunagu_privacy::Cipher;
use tsunagu_store::Db;

/// How long a loaded channel is used without reading it again.
pub const TTL: Duration = Duration::from_secs(5);

/// A channel as a webhook uses it: loaded with its typed credentials, and as ingest names it.
pub struct WebhookChannel {
    pub loaded: LoadedChannel,
    /// Its clinic, id and the addresses it serves, shared by every delivery's ingest.
    pub ingest: Arc<inbound::Channel>,
}

#[derive(Default)]
pub struct ChannelCache {
    kept: Kept<Arc<WebhookChannel>>,
}

impl ChannelCache {
    /// The channel `id` (any kind, enabled or not: the caller decides), from memory when it was
    /// loaded less than `TTL` ago; `None` when there is no such channel or no adapter for its
    /// kind. Errors as `outbox::channel::load` (unreadable credentials: `BadCredentials`).
    pub async fn load(
        &self,
        db: &Db,
        cipher: &Cipher,
        id: &ChannelId,
    ) -> anyhow::Result<Option<Arc<WebhookChannel>>> {
        let now = Instant::now();
        if let Some(hit) = self.kept.fresh(id, now) {
            return Ok(Some(hit));
        }
        let epoch = self.kept.epoch();
        let Found::Channel(loaded) = channel::load(db, cipher, None, id).await? else {
            return Ok(None);
        };
        let ingest = Arc::new(inbound::Channel {
            clinic_id: loaded.clinic(),
            channel_id: loaded.id(),
            endpoints: loaded.endpoints(),
        });
        let channel = Arc::new(WebhookChannel {
            loaded: *loaded,
            ingest,
        });
        self.kept.keep(id, channel.clone(), now, epoch);
        Ok(Some(channel))
    }

    /// Drops `id` (changed on this instance): its next delivery loads it again.
    pub fn forget(&self, id: &ChannelId) {
        self.kept.forget(id);
    }
}

/// Values by channel id with the time each was read.
struct Kept<V> {
    entries: RwLock<HashMap<ChannelId, (V, Instant)>>,
    /// Moves on every `forget`: a value read before it is not kept (it may be the row as it
    /// was before the change).
    epoch: AtomicU64,
}

impl<V> Default for Kept<V> {
    fn default() -> Self {
        Kept {
            entries: RwLock::default(),
            epoch: AtomicU64::new(0),
        }
    }
}

impl<V: Clone> Kept<V> {
    fn fresh(&self, id: &ChannelId, now: Instant) -> Option<V> {
        let entries = self.entries.read().unwrap_or_else(|p| p.into_inner());
        entries
            .get(id)
            .filter(|(_, at)| now.saturating_duration_since(*at) < TTL)
            .map(|(v, _)| v.clone())
    }

    /// Taken before reading a value, handed to `keep`.
    fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::Acquire)
    }

    /// Keeps a value read at `now`, unless a `forget` came since `epoch` was taken.
    fn keep(&self, id: &ChannelId, value: V, now: Instant, epoch: u64) {
        let mut entries = self.entries.write().unwrap_or_else(|p| p.into_inner());
        if self.epoch.load(Ordering::Acquire) != epoch {
            return;
        }
        // Expired entries go as new ones come, so ids no longer called do not pile up.
        entries.retain(|_, (_, at)| now.saturating_duration_since(*at) < TTL);
        entries.insert(id.clone(), (value, now));
    }

    fn forget(&self, id: &ChannelId) {
        let mut entries = self.entries.write().unwrap_or_else(|p| p.into_inner());
        self.epoch.fetch_add(1, Ordering::AcqRel);
        entries.remove(id);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kept_channel_is_used_until_it_is_ttl_old_then_read_again() {
        let kept = Kept::default();
        let (id, t0) = (ChannelId::new(), Instant::now());
        kept.keep(&id, "v1", t0, kept.epoch());
        assert_eq!(
            kept.fresh(&id, t0 + TTL - Duration::from_millis(1)),
            Some("v1")
        );
        assert_eq!(kept.fresh(&id, t0 + TTL), None);
        assert_eq!(kept.fresh(&ChannelId::new(), t0), None, "another channel");
    }

    #[test]
    fn a_forgotten_channel_is_read_again_at_once() {
        let kept = Kept::default();
        let (id, other, t0) = (ChannelId::new(), ChannelId::new(), Instant::now());
        kept.keep(&id, "enabled", t0, kept.epoch());
        kept.keep(&other, "other", t0, kept.epoch());
        kept.forget(&id);
        assert_eq!(kept.fresh(&id, t0), None);
        assert_eq!(
            kept.fresh(&other, t0),
            Some("other"),
            "only the changed one goes"
        );
    }

    #[test]
    fn a_read_that_began_before_a_change_is_not_kept() {
        let kept = Kept::default();
        let (id, t0) = (ChannelId::new(), Instant::now());
        let before = kept.epoch();
        // The channel is disabled while a delivery was reading it as enabled.
        kept.forget(&id);
        kept.keep(&id, "enabled", t0, before);
        assert_eq!(kept.fresh(&id, t0), None);
        kept.keep(&id, "disabled", t0, kept.epoch());
        assert_eq!(kept.fresh(&id, t0), Some("disabled"));
    }

    #[test]
    fn expired_channels_go_when_another_is_kept() {
        let kept = Kept::default();
        let (old, new, t0) = (ChannelId::new(), ChannelId::new(), Instant::now());
        kept.keep(&old, "old", t0, kept.epoch());
        kept.keep(&new, "new", t0 + TTL, kept.epoch());
        let entries = kept.entries.read().unwrap();
        assert!(!entries.contains_key(&old));
        assert!(entries.contains_key(&new));
    }
}
