//! Sending against each provider's emulator, through `Deliver` only: what the outbox gets for
//! an accepted send, throttling, Retry-After, an answer lost after the provider executed the send,
//! no answer at all, and a permanent refusal. Whether an unknown outcome may be repeated comes
//! from the adapter's own rules (`idempotency_key`), never from the provider's name.
use std::time::Duration;

use serde_json::json;
use tsunagu_channels::provider::deliver::{Channel, Delivery, Outgoing, Window};
use tsunagu_channels::{Adapter, Credentials};
use tsunagu_core::jobs::SendMessage;
use tsunagu_core::{ChannelId, Code, MessageId};

use super::kit::{for_each_provider, Emulator, Fault, Kit};

/// How long an adapter may wait for a provider that never answers.
const GIVE_UP_WITHIN: Duration = Duration::from_secs(30);

/// One channel connected to a running emulator, sending as the outbox does: `plan`, then `send`.
struct Sender {
    adapter: &'static dyn Adapter,
    emu: Emulator,
    creds: Credentials,
    http: reqwest::Client,
}

impl Sender {
    async fn start(kit: &'static dyn Kit, adapter: &'static dyn Adapter, fault: Fault) -> Self {
        let emu = kit.start(fault).await;
        let creds = adapter.credentials(&emu.stored).unwrap();
        Self {
            adapter,
            emu,
            creds,
            http: reqwest::Client::new(),
        }
    }

    /// A queued plain text to the patient; each job is one message with its own retry key.
    fn job(&self, n: u32) -> SendMessage {
        SendMessage {
            message_id: MessageId::from_db(format!("m{n}")),
            channel_id: ChannelId::from_db("c1".into()),
            to: self.emu.to.clone(),
            messages: vec![json!({"type": "text", "text": "明日10時のご予約を承りました"})],
            retry_key: uuid::Uuid::new_v4().to_string(),
            channel_kind: Some(self.adapter.kind().as_str().to_owned()),
            via: None,
            tag: None,
            reply: None,
        }
    }

    /// Attempt `attempt` of `job`, as the worker runs it.
    async fn attempt(&self, job: &SendMessage, attempt: i64) -> Delivery {
        let ch = Channel {
            http: &self.http,
            id: "c1",
            api_base_url: &self.emu.api_base_url,
            api_data_base_url: self.emu.api_data_base_url.as_deref(),
            creds: &self.creds,
            default_via: self.emu.default_via.as_deref(),
            messaging_service_sid: None,
            public_base: "https://clinic.example",
        };
        // The patient wrote just now, where the provider has a service window.
        let window = self.adapter.rules().service_window_ms.map(|_| Window {
            last_inbound_at_ms: Some(self.emu.now_ms),
            by_person: true,
        });
        let out = Outgoing {
            job,
            now_ms: self.emu.now_ms,
            attempt,
            first_attempt_at_ms: (attempt > 1).then_some(self.emu.now_ms),
            window,
        };
        let kind = self.adapter.kind();
        if let Err(d) = self.adapter.plan(&ch, &out) {
            panic!("{kind}: a plain text was refused before the call: {d:?}");
        }
        let sent = tokio::time::timeout(GIVE_UP_WITHIN, self.adapter.send(&ch, &out)).await;
        let d = sent.unwrap_or_else(|_| panic!("{kind}: still waiting after {GIVE_UP_WITHIN:?}"));
        if let Delivery::Rejected { code, .. } = &d {
            assert!(
                Code::parse(code).is_some(),
                "{kind}: {code:?} is not a stable code"
            );
        }
        d
    }

    fn delivered(&self) -> usize {
        self.emu.control.delivered().len()
    }
}

/// Sent, with the provider's id for the message (the one the emulator keeps, where it does).
fn sent_id(s: &Sender, d: &Delivery) -> String {
    let kind = s.adapter.kind();
    let Delivery::Sent {
        provider_message_id: Some(id),
    } = d
    else {
        panic!("{kind}: expected sent with the provider's id, got {d:?}");
    };
    assert!(!id.is_empty(), "{kind}: an empty provider id");
    id.clone()
}

#[tokio::test]
async fn a_plain_text_is_sent_with_the_providers_message_id() {
    for_each_provider(|kit, adapter| async move {
        let s = Sender::start(kit, adapter, Fault::None).await;
        let id = sent_id(&s, &s.attempt(&s.job(1), 1).await);
        let delivered = s.emu.control.delivered();
        assert_eq!(delivered.len(), 1, "delivered {delivered:?}");
        if let Some(Some(theirs)) = delivered.first() {
            assert_eq!(
                &id, theirs,
                "the id is not the one the provider gave the message"
            );
        }
    })
    .await;
}

#[tokio::test]
async fn a_throttled_send_is_retried_not_refused() {
    for_each_provider(|kit, adapter| async move {
        let s = Sender::start(kit, adapter, Fault::Throttled).await;
        sent_id(&s, &s.attempt(&s.job(1), 1).await);
        let d = s.attempt(&s.job(2), 1).await;
        assert!(matches!(d, Delivery::Retry { .. }), "throttled: {d:?}");
        assert_eq!(s.delivered(), 1);
    })
    .await;
}

#[tokio::test]
async fn a_rate_limit_is_retried_no_sooner_than_its_retry_after() {
    for_each_provider(|kit, adapter| async move {
        let s = Sender::start(kit, adapter, Fault::RetryAfter(7)).await;
        let job = s.job(1);
        match s.attempt(&job, 1).await {
            Delivery::Retry {
                after: Some(after), ..
            } => assert!(after >= Duration::from_secs(7), "retried after {after:?}"),
            d => panic!("429 with Retry-After: 7 came to {d:?}"),
        }
        assert_eq!(s.delivered(), 0);
        // Nothing was executed, so the retry sends it once.
        sent_id(&s, &s.attempt(&job, 2).await);
        assert_eq!(s.delivered(), 1);
    })
    .await;
}

#[tokio::test]
async fn a_lost_answer_is_in_doubt_or_repeated_under_the_providers_idempotency_key() {
    for_each_provider(|kit, adapter| async move {
        let s = Sender::start(kit, adapter, Fault::LostAnswer).await;
        unknown_outcome(&s).await;
    })
    .await;
}

#[tokio::test]
async fn no_answer_is_in_doubt_or_repeated_under_the_providers_idempotency_key() {
    for_each_provider(|kit, adapter| async move {
        let s = Sender::start(kit, adapter, Fault::Silent).await;
        unknown_outcome(&s).await;
    })
    .await;
}

/// The provider executed the send but its answer never arrived. With an idempotency key
/// (LINE's retry key) the attempt is retried and the repeat is answered "already accepted"
/// (409) → sent, delivered once; without one it is in doubt and never repeated.
async fn unknown_outcome(s: &Sender) {
    let job = s.job(1);
    let d = s.attempt(&job, 1).await;
    assert_eq!(s.delivered(), 1, "the emulator executed the send");
    if s.adapter.rules().idempotency_key {
        assert!(matches!(d, Delivery::Retry { .. }), "with a key: {d:?}");
        sent_id(s, &s.attempt(&job, 2).await);
        assert_eq!(s.delivered(), 1, "the repeat was delivered again");
    } else {
        assert!(
            matches!(d, Delivery::InDoubt { .. }),
            "without a key: {d:?}"
        );
    }
}

#[tokio::test]
async fn a_permanent_refusal_is_rejected_with_a_stable_code() {
    for_each_provider(|kit, adapter| async move {
        let s = Sender::start(kit, adapter, Fault::Refused).await;
        match s.attempt(&s.job(1), 1).await {
            Delivery::Rejected { code, .. } => {
                assert_eq!(Code::parse(code), Some(kit.refusal()), "refused as {code}");
            }
            d => panic!("a permanent refusal came to {d:?}"),
        }
        assert_eq!(s.delivered(), 0);
        // Whatever the provider's code, staff get a stable one.
        for provider_code in [None, Some(""), Some("0"), Some("not-a-code")] {
            let code = adapter.refusal_code(provider_code);
            assert!(Code::parse(code).is_some(), "{provider_code:?} → {code:?}");
        }
    })
    .await;
}
