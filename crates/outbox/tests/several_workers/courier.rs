//! A recording `message.send` handler standing in for a provider without an idempotency key
//! (not repeatable): it marks the attempt started just before its "call", as `send` does, and
//! can be held before or during that call while a test stops or abandons its worker.
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{mpsc, Notify};
use tsunagu_core::jobs::SendMessage;
use tsunagu_core::{ChannelId, ClinicId, ConversationId, FakeClock, MessageId};
use tsunagu_outbox::worker::Outcome;
use tsunagu_outbox::{JobHandler, Registry, Worker, WorkerConfig};
use tsunagu_store::jobs::{self, Enqueue, Job};
use tsunagu_store::{channels, clinics, conversations, patients, Db};

pub const LEASE_MS: i64 = 120_000;

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Claimed, not yet at the provider call.
    BeforeCall,
    /// The attempt started: the provider may have the message.
    DuringCall,
}

/// Where a held courier stops, tells the test it got there, and waits for `go`.
#[derive(Clone)]
pub struct Hold {
    pub stage: Stage,
    pub reached: mpsc::UnboundedSender<()>,
    pub go: Arc<Notify>,
}

/// Every line "the provider" received, in the order of the calls.
pub type Calls = Arc<Mutex<Vec<String>>>;

#[derive(Clone)]
pub struct Courier {
    pub calls: Calls,
    pub hold: Option<Hold>,
}

impl Courier {
    async fn wait_at(&self, stage: Stage) {
        if let Some(hold) = self.hold.as_ref().filter(|h| h.stage == stage) {
            let _ = hold.reached.send(());
            hold.go.notified().await;
        }
    }
}

#[async_trait::async_trait]
impl JobHandler for Courier {
    type Job = SendMessage;

    async fn run(&self, w: &Worker, job: &Job, p: SendMessage) -> anyhow::Result<Outcome> {
        self.wait_at(Stage::BeforeCall).await;
        w.attempt_starting(job).await?;
        self.wait_at(Stage::DuringCall).await;
        // Let other workers' tasks interleave with this "call".
        for _ in 0..3 {
            tokio::task::yield_now().await;
        }
        let line = p.messages[0]["text"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        self.calls
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(line);
        Ok(Outcome::Done)
    }

    fn repeatable(&self, _: &SendMessage) -> bool {
        false
    }
}

pub fn received(calls: &Calls) -> Vec<String> {
    calls.lock().unwrap_or_else(|e| e.into_inner()).clone()
}

/// A worker on `db` (its own pool when the test connected one) with `courier`.
pub fn worker(db: Db, clock: &FakeClock, courier: Courier, grace: Duration) -> Worker {
    let mut registry = Registry::default();
    registry.register(courier);
    Worker {
        db,
        clock: Arc::new(clock.clone()),
        cipher: tsunagu_privacy::Cipher::new(&[7u8; 32]),
        http: reqwest::Client::new(),
        config: WorkerConfig {
            lease_ms: LEASE_MS,
            poll: Duration::from_millis(5),
            shutdown_grace: grace,
            ..WorkerConfig::default()
        },
        on_change: Arc::new(|_, _| {}),
        public_base: "http://localhost".into(),
        handlers: Arc::new(registry),
    }
}

/// A held courier and the two ends the test uses: "reached" and "go".
pub fn held(stage: Stage, calls: &Calls) -> (Courier, mpsc::UnboundedReceiver<()>, Arc<Notify>) {
    let (reached, at) = mpsc::unbounded_channel();
    let go = Arc::new(Notify::new());
    let hold = Hold {
        stage,
        reached,
        go: go.clone(),
    };
    let courier = Courier {
        calls: calls.clone(),
        hold: Some(hold),
    };
    (courier, at, go)
}

pub fn free(calls: &Calls) -> Courier {
    Courier {
        calls: calls.clone(),
        hold: None,
    }
}

/// A clinic with one channel, where the tests' conversations live.
pub struct Clinic {
    pub clinic: ClinicId,
    pub channel: ChannelId,
}

pub async fn clinic(db: &Db) -> Clinic {
    let mut tx = db.begin().await.unwrap();
    let org = clinics::create_organization(tx.conn(), "医療法人テスト会", 1)
        .await
        .unwrap();
    let new = clinics::NewClinic {
        organization_id: &org,
        slug: "sakura",
        name: "さくら内科",
        timezone: "Asia/Tokyo",
        locale: "ja",
    };
    let clinic = clinics::create_clinic(tx.conn(), new, 1).await.unwrap();
    let ch = channels::NewChannel {
        clinic_id: &clinic,
        kind: "whatsapp",
        name: "WhatsApp",
        credentials_enc: "x",
        api_base_url: "http://127.0.0.1:1",
        api_data_base_url: None,
        settings: "{}",
    };
    let channel = channels::create(tx.conn(), ch, 1).await.unwrap();
    tx.commit().await.unwrap();
    Clinic { clinic, channel }
}

/// A patient's conversation (`who` is their address on the channel).
pub async fn conversation(db: &Db, c: &Clinic, who: &str) -> ConversationId {
    let mut tx = db.begin().await.unwrap();
    let ident = patients::create_provisional(tx.conn(), &c.clinic, &c.channel, who, "患者", 1)
        .await
        .unwrap();
    let new = conversations::NewConversation {
        clinic_id: &c.clinic,
        channel_id: &c.channel,
        kind: "direct",
        thread_key: who,
        patient_id: Some(&ident.patient_id),
        channel_identity_id: Some(&ident.id),
        title: None,
    };
    let conv = conversations::find_or_create(tx.conn(), new, 1)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    ConversationId::from_db(conv.id)
}

/// A staff line queued as the reply path queues it: the message and its `message.send` job.
pub async fn queue_line(db: &Db, c: &Clinic, conv: &ConversationId, line: &str, at_ms: i64) {
    let mut tx = db.begin().await.unwrap();
    let msg = conversations::NewMessage {
        clinic_id: &c.clinic,
        conversation_id: conv,
        channel_id: &c.channel,
        direction: "out",
        kind: "text",
        body: Some(line),
        payload: "{}",
        sender_identity_id: None,
        author_kind: "staff",
        author_staff_id: None,
        provider_message_id: None,
        status: "queued",
        at_ms,
    };
    let message_id = conversations::insert_message(tx.conn(), msg).await.unwrap();
    let job = send_job(&message_id, &c.channel, line);
    let at = Enqueue {
        clinic_id: Some(&c.clinic),
        idempotency_key: &format!("send:{message_id}"),
        run_at: at_ms,
    };
    jobs::enqueue(tx.conn(), &job, at, at_ms).await.unwrap();
    tx.commit().await.unwrap();
}

fn send_job(message_id: &MessageId, channel: &ChannelId, line: &str) -> SendMessage {
    SendMessage {
        message_id: message_id.clone(),
        channel_id: channel.clone(),
        to: "15550000000".into(),
        messages: vec![serde_json::json!({ "type": "text", "text": line })],
        retry_key: String::new(),
        channel_kind: Some("whatsapp".into()),
        via: None,
        tag: None,
        reply: None,
    }
}

/// Every job's (line, state, attempts), by line.
pub async fn job_states(db: &Db) -> Vec<(String, String, i64)> {
    let rows: Vec<(String, String, i64)> =
        sqlx::query_as("SELECT payload, state, attempts FROM outbox_jobs ORDER BY id")
            .fetch_all(db.pool())
            .await
            .unwrap();
    let mut states: Vec<_> = rows
        .into_iter()
        .map(|(payload, state, attempts)| {
            let p: SendMessage = serde_json::from_str(&payload).unwrap();
            let line = p.messages[0]["text"].as_str().unwrap().to_owned();
            (line, state, attempts)
        })
        .collect();
    states.sort();
    states
}
