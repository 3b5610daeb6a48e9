//! What the checks need from one provider, and the list of kits. A kit builds inputs only
//! (credentials, the provider's official samples, its signature, its emulator with a fault); it
//! decides nothing the checks assert.
use std::future::Future;

use http::HeaderMap;
use serde_json::Value;
use tsunagu_channels::provider::{Endpoint, WebhookRequest};
use tsunagu_channels::{Adapter, ChannelKind};
use tsunagu_core::Code;

/// Which of a channel's webhook URLs a delivery was posted to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Hook {
    Events,
    /// `…/status?message=<our id>` (status callbacks set on each send).
    Status {
        message: Option<String>,
    },
}

/// One webhook delivery as received: the URL the provider signs, its headers and exact bytes.
#[derive(Clone, Debug)]
pub struct Posted {
    /// Where it came from (a fixture file, a vector, the emulator), for failure messages.
    pub name: String,
    pub url: String,
    pub hook: Hook,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Posted {
    /// A sample without a signature (the check signs it the provider's way).
    pub fn unsigned(name: impl Into<String>, url: &str, body: Vec<u8>) -> Self {
        Self {
            name: name.into(),
            url: url.to_owned(),
            hook: Hook::Events,
            headers: HeaderMap::new(),
            body,
        }
    }

    pub fn request(&self) -> WebhookRequest<'_> {
        let endpoint = match &self.hook {
            Hook::Events => Endpoint::Events,
            Hook::Status { message } => Endpoint::Status {
                message: message.as_deref(),
            },
        };
        WebhookRequest {
            headers: &self.headers,
            body: &self.body,
            url: &self.url,
            endpoint,
        }
    }

    pub fn with_headers(&self, headers: HeaderMap) -> Self {
        Self {
            headers,
            ..self.clone()
        }
    }

    pub fn with_body(&self, body: Vec<u8>) -> Self {
        Self {
            body,
            ..self.clone()
        }
    }

    pub fn at(&self, url: String) -> Self {
        Self {
            url,
            ..self.clone()
        }
    }
}

/// An official delivery that came with its signature (the provider's or its SDKs' test vectors).
pub struct Vector {
    pub secret: String,
    /// Headers hold only the signature.
    pub posted: Posted,
    pub valid: bool,
}

/// What the emulator does to the next send (see each emulator's fault injection).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    None,
    /// Its own rate limit admits one send now; the next is throttled.
    Throttled,
    /// The next send is answered 429 with `Retry-After` seconds, not executed.
    RetryAfter(u64),
    /// The next send is executed, then answered with a server error (the answer is lost).
    LostAnswer,
    /// The next send is executed, then not answered for a minute.
    Silent,
    /// The patient cannot receive from this channel, for good (`Emulator::to` is that person).
    Refused,
}

/// An emulator running on 127.0.0.1 with one channel connected to it and one patient.
pub struct Emulator {
    /// The channel's credentials as stored.
    pub stored: Value,
    pub api_base_url: String,
    pub api_data_base_url: Option<String>,
    /// The number or page the channel sends from.
    pub default_via: Option<String>,
    /// The patient messages go to (who has just written, where the provider has a window).
    pub to: String,
    /// The emulator's clock, frozen: its rate windows and service windows are exact.
    pub now_ms: i64,
    pub control: Box<dyn Control>,
}

/// What a check may ask of a running emulator.
#[async_trait::async_trait]
pub trait Control: Send + Sync {
    /// Messages that reached `Emulator::to`, with the provider's id where the emulator keeps it.
    fn delivered(&self) -> Vec<Option<String>>;

    /// The patient sends a picture: the delivery the emulator's driver posted to the channel's
    /// webhook, and the picture's bytes when the kit chose them.
    async fn patient_sends_picture(&self) -> Picture;
}

pub struct Picture {
    pub posted: Posted,
    pub bytes: Option<Vec<u8>>,
}

/// One provider's inputs to the contract suite.
#[async_trait::async_trait]
pub trait Kit: Send + Sync {
    fn kind(&self) -> ChannelKind;

    /// Credentials as stored, with `secret` as the one the provider signs webhooks with.
    fn credentials(&self, secret: &str) -> Value;

    /// Official deliveries that came signed; may be empty where the provider published none.
    fn vectors(&self) -> Vec<Vector>;

    /// Every official sample delivery of the provider, unsigned.
    fn samples(&self) -> Vec<Posted>;

    /// The headers the provider would sign `posted` with, made by its emulator's code.
    fn sign(&self, secret: &str, posted: &Posted) -> HeaderMap;

    /// Ways the provider's signature is commonly got wrong, each to be refused (Meta's legacy
    /// SHA-1 header alone, a Twilio signature for another URL…).
    fn forgeries(&self, secret: &str, signed: &Posted) -> Vec<(&'static str, Posted)>;

    /// The stable code its emulator's permanent refusal (`Fault::Refused`) must come to.
    fn refusal(&self) -> Code;

    async fn start(&self, fault: Fault) -> Emulator;
}

static KITS: &[&dyn Kit] = &[
    &super::line::LineKit,
    &super::whatsapp::WhatsAppKit,
    &super::messenger::MessengerKit,
    &super::sms::SmsKit,
];

/// Every provider in the registry with its kit; a provider without one fails here.
pub fn kits() -> Vec<(&'static dyn Kit, &'static dyn Adapter)> {
    ChannelKind::ALL
        .iter()
        .map(|&kind| {
            let kit = KITS.iter().copied().find(|k| k.kind() == kind);
            let kit = kit.unwrap_or_else(|| {
                panic!("{kind} has no contract kit: add one in crates/channels/tests/contract/")
            });
            (kit, kind.adapter())
        })
        .collect()
}

/// Runs `check` for every provider at once (sends wait on emulators), then reports each
/// provider whose check failed by name.
pub async fn for_each_provider<F, Fut>(check: F)
where
    F: Fn(&'static dyn Kit, &'static dyn Adapter) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    let runs: Vec<_> = kits()
        .into_iter()
        .map(|(kit, adapter)| (kit.kind(), tokio::spawn(check(kit, adapter))))
        .collect();
    let mut failed = Vec::new();
    for (kind, run) in runs {
        if let Err(e) = run.await {
            let why = match e.try_into_panic() {
                Ok(p) => p
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| p.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                    .unwrap_or_default(),
                Err(e) => e.to_string(),
            };
            failed.push(format!("{kind}: {why}"));
        }
    }
    assert!(failed.is_empty(), "{}", failed.join("\n"));
}

#[test]
fn every_provider_in_the_registry_has_a_kit() {
    for (kit, adapter) in kits() {
        assert_eq!(kit.kind(), adapter.kind());
    }
    // One kit per kind: a second kit for a kind would hide which one runs.
    for &kind in ChannelKind::ALL {
        assert_eq!(
            KITS.iter().filter(|k| k.kind() == kind).count(),
            1,
            "{kind}"
        );
    }
}
