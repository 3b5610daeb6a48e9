//! The one ingest path: a delivery's items stored on one transaction (the group commit on
//! SQLite). Per item the raw event is stored once — a redelivery stops there — reading with it
//! (`store::arrival`) what its meaning needs next (a status's recipient, an edit's thread); a
//! message's writes are queued with it (`message::push`), applying when its sender and
//! conversation exist. The group writer sends these first statements of several deliveries in
//! one call (`store::group::Staged`); then each item's meaning is applied in order.
use std::sync::Arc;

use anyhow::Context;
use sqlx::any::AnyRow;
use sqlx::AnyConnection;
use tsunagu_channels::provider::inbound::{Address, Item, What};
use tsunagu_core::{new_id, ChannelId, ClinicId};
use tsunagu_store::arrival::{self, Arrival, Lookup};
use tsunagu_store::batch::{split_after, Batch};
use tsunagu_store::channels::Endpoints;
use tsunagu_store::{run_staged, templates, webhooks, Backend, BoxFuture, Db, Staged};

use super::{message, status, IngestReport};

/// The channel a delivery arrived on, with the addresses it serves.
#[derive(Clone, Debug)]
pub struct Channel {
    pub clinic_id: ClinicId,
    pub channel_id: ChannelId,
    pub endpoints: Endpoints,
}

/// Stores one verified delivery atomically before the provider's answer; redelivered items
/// change nothing. A delivery without items (LINE's connectivity check) stores nothing. `ch`
/// may be shared (the webhook's channel cache hands the same one to every delivery).
///
/// On SQLite it joins the group commit (one writer, one fsync for every delivery queued
/// meanwhile, the first statements of several deliveries in one call); PostgreSQL takes
/// concurrent writers (and flushes concurrent commits together) with a transaction each.
pub async fn ingest(
    db: &Db,
    ch: impl Into<Arc<Channel>>,
    items: Vec<Item>,
    now_ms: i64,
) -> anyhow::Result<IngestReport> {
    if items.is_empty() {
        return Ok(IngestReport::default());
    }
    let delivery = Delivery {
        ch: ch.into(),
        items,
        now_ms,
    };
    let stored = match db.backend() {
        Backend::Postgres => {
            let mut tx = db.begin().await?;
            let report = run_staged(tx.conn(), &delivery).await?;
            tx.commit().await?;
            Ok(report)
        }
        Backend::Sqlite => db.write_staged(delivery).await,
    };
    stored.context("committing a delivery")
}

/// A delivery as the group writer runs it (possibly more than once): first, per item, its raw
/// event with what its meaning reads and (a message) writes when its sender and conversation
/// exist; then, per item in order, the rest.
struct Delivery {
    ch: Arc<Channel>,
    items: Vec<Item>,
    now_ms: i64,
}

impl Staged for Delivery {
    type Output = IngestReport;
    type Queued = Vec<Queued>;

    fn first(&self, b: &mut Batch) -> anyhow::Result<Vec<Queued>> {
        let mut queued = Vec::with_capacity(self.items.len());
        for item in &self.items {
            queued.push(queue(b, &self.ch, item, self.now_ms)?);
        }
        Ok(queued)
    }

    fn then<'c>(
        &'c self,
        conn: &'c mut AnyConnection,
        queued: Vec<Queued>,
        rows: Vec<AnyRow>,
    ) -> BoxFuture<'c, anyhow::Result<IngestReport>> {
        Box::pin(async move {
            let mut report = IngestReport::default();
            // Each item's rows end with its arrival's last row.
            let mut rows = split_after(rows, "arrival_end").into_iter();
            for (item, q) in self.items.iter().zip(queued) {
                let rows = rows.next().unwrap_or_default();
                let (fresh, conversation) = settle(conn, &self.ch, item, q, rows, self.now_ms)
                    .await
                    .with_context(|| format!("storing a {} event", item.event.kind))?;
                report.count(fresh, conversation);
            }
            Ok(report)
        })
    }
}

/// Whether the channel serves the address: the address itself, or the sender group it came
/// through (a Twilio Messaging Service).
fn serves(endpoints: &Endpoints, to: &Address) -> bool {
    endpoints.serves(&to.id)
        || (to.service.is_some() && to.service == endpoints.messaging_service_sid)
}

/// What the item's meaning reads with its raw event.
fn lookup(what: &What) -> Lookup<'_> {
    match what {
        // Queued with the arrival instead (`message::push`): read only on first contact.
        What::Message(_) => Lookup::default(),
        What::Status(s) => Lookup {
            external_id: s.unreachable.as_ref().and(s.recipient.as_deref()),
            thread_key: None,
        },
        What::Edit(e) => Lookup {
            external_id: None,
            thread_key: Some(&e.thread),
        },
        What::Unsend(u) => Lookup {
            external_id: None,
            thread_key: Some(&u.thread),
        },
        What::Receipt(_) | What::TemplateReview | What::Record => Lookup::default(),
    }
}

/// What `queue` queued for an item.
struct Queued {
    routed: bool,
    message: Option<message::Queued>,
}

/// An item's first statements: its raw event and lookups, and what a message writes when its
/// sender and conversation exist (`message::push`).
fn queue(b: &mut Batch, ch: &Channel, item: &Item, now_ms: i64) -> anyhow::Result<Queued> {
    let routed = item.to.as_ref().is_none_or(|to| serves(&ch.endpoints, to));
    let wanted = if routed {
        lookup(&item.what)
    } else {
        Lookup::default()
    };
    let e = &item.event;
    let new = webhooks::NewEvent {
        clinic_id: &ch.clinic_id,
        channel_id: &ch.channel_id,
        provider_event_id: &e.key,
        event_type: &e.kind,
        mode: e.mode.as_deref(),
        body: &e.body,
    };
    let event_id = new_id();
    arrival::push(b, &new, &event_id, e.sender.as_deref(), wanted, now_ms);
    let message = match (&item.what, routed) {
        (What::Message(m), true) => {
            Some(message::push(b, ch, m, via(ch, item), &event_id, now_ms)?)
        }
        _ => None,
    };
    arrival::push_end(b, &event_id, message.as_ref().map(message::Queued::id));
    Ok(Queued { routed, message })
}

/// The rest of an item, given the rows of its first statements: `(fresh, the conversation it
/// changed)`.
async fn settle(
    conn: &mut AnyConnection,
    ch: &Channel,
    item: &Item,
    q: Queued,
    rows: Vec<AnyRow>,
    now_ms: i64,
) -> anyhow::Result<(bool, Option<String>)> {
    let arrived = arrival::read(&rows)?;
    if !arrived.fresh {
        return Ok((false, None));
    }
    if !q.routed {
        // For an address this channel does not serve: kept and flagged for the administrator
        // (shown on the channel's settings page), never dropped.
        webhooks::flag(conn, &ch.channel_id, &item.event.key, "unrouted").await?;
        return Ok((true, None));
    }
    let conversation = match (&item.what, q.message) {
        (What::Message(m), Some(queued)) => {
            message::store(conn, ch, m, &queued, arrived, rows, now_ms).await?
        }
        _ => apply(conn, ch, item, arrived, now_ms).await?,
    };
    Ok((true, conversation))
}

/// Replies leave from the address a message came to (an Instagram account's page).
fn via<'a>(ch: &'a Channel, item: &'a Item) -> Option<&'a str> {
    item.to
        .as_ref()
        .map(|to| ch.endpoints.page_for(&to.id).unwrap_or(&to.id))
}

async fn apply(
    conn: &mut AnyConnection,
    ch: &Channel,
    item: &Item,
    arrived: Arrival,
    now_ms: i64,
) -> anyhow::Result<Option<String>> {
    match &item.what {
        What::Record => Ok(None),
        // Stored with its arrival (`store`).
        What::Message(_) => Ok(None),
        What::Status(s) => status::status(conn, ch, s, arrived, now_ms).await,
        What::Receipt(r) => status::receipt(conn, ch, r).await,
        What::Edit(e) => {
            tsunagu_store::conversations::edit_inbound(
                &mut *conn,
                &ch.channel_id,
                &e.provider_message_id,
                e.body.as_deref(),
                e.at_ms,
            )
            .await?;
            Ok(arrived.conversation.map(|c| c.id))
        }
        What::Unsend(u) => {
            tsunagu_store::conversations::mark_unsent(
                &mut *conn,
                &ch.channel_id,
                &u.provider_message_id,
                u.at_ms,
            )
            .await?;
            Ok(arrived.conversation.map(|c| c.id))
        }
        What::TemplateReview => {
            let (clinic, channel) = (&ch.clinic_id, &ch.channel_id);
            templates::enqueue_sync_keyed(conn, clinic, channel, &item.event.key, now_ms).await?;
            Ok(None)
        }
    }
}
