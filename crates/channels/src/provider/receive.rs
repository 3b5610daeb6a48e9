//! Inbound half of an adapter: verify a webhook delivery and parse it into inbound items.
//! Verifying and parsing are pure and synchronous; the one webhook endpoint (`web::webhooks`)
//! calls them and hands the items to the one ingest path.
use http::HeaderMap;

use super::inbound::Item;
use super::Credentials;

/// Which of a provider's webhook URLs was called.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint<'a> {
    /// `POST /webhooks/{kind}/{channel_id}`: the provider's events.
    Events,
    /// `POST /webhooks/{kind}/{channel_id}/status`: the status callback set on each send
    /// (Twilio), with our message id from its `message` query parameter.
    Status { message: Option<&'a str> },
}

/// One POST as received, before anything is trusted.
pub struct WebhookRequest<'a> {
    pub headers: &'a HeaderMap,
    /// The body exactly as received: signatures cover these bytes.
    pub body: &'a [u8],
    /// The URL the provider called as it signs it: `TSUNAGU_PUBLIC_URL` + path and query.
    pub url: &'a str,
    pub endpoint: Endpoint<'a>,
}

impl WebhookRequest<'_> {
    /// A header's value, if present and readable.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// The URLs a provider calls besides `POST /webhooks/{kind}/{channel_id}`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Routes {
    /// `GET` on the same URL: a subscription handshake (Meta).
    pub handshake: bool,
    /// `POST …/status`: status callbacks (Twilio).
    pub status_callback: bool,
}

/// The body of a successful answer, as the provider reads it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Answer {
    pub content_type: &'static str,
    pub body: &'static str,
}

impl Answer {
    pub const OK: Answer = Answer {
        content_type: "text/plain; charset=utf-8",
        body: "ok",
    };
}

/// A verified delivery that does not read as the provider's webhook (malformed JSON, a form
/// missing a field): answered 400, nothing stored. Names no value from the body.
#[derive(Debug, thiserror::Error)]
#[error("a {provider} webhook that does not read as one")]
pub struct Malformed {
    pub provider: &'static str,
}

/// Implemented by every adapter (see `super::Adapter`).
pub trait Receive {
    /// The URLs the provider calls.
    fn routes(&self) -> Routes {
        Routes::default()
    }

    /// The `GET` subscription handshake (`routes().handshake`): `Some(challenge)` to echo, or
    /// `None` to refuse (403).
    fn handshake(&self, _creds: &Credentials, _query: &[(String, String)]) -> Option<String> {
        None
    }

    /// Whether the request carries the provider's valid signature over exactly what was
    /// received (constant time). Nothing is stored for one that does not.
    fn verify(&self, creds: &Credentials, req: &WebhookRequest<'_>) -> bool;

    /// The delivery's items, in the order received. Call only after `verify` succeeded.
    fn parse(&self, req: &WebhookRequest<'_>, now_ms: i64) -> Result<Vec<Item>, Malformed>;

    /// What to answer once the delivery is stored.
    fn answer(&self, _endpoint: Endpoint<'_>) -> Answer {
        Answer::OK
    }
}

/// The pairs of an `application/x-www-form-urlencoded` body or query, as received (order and
/// duplicates kept).
pub fn form_pairs(raw: &[u8]) -> Vec<(String, String)> {
    url::form_urlencoded::parse(raw).into_owned().collect()
}
