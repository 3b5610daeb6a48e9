//! The consent ledger (DESIGN §3): per patient × purpose × channel, granted or withdrawn, with
//! time, source and the wording shown. Rows are only ever appended; the current state is the
//! latest row, a channel's own row beating the all-channels row.
//!
//! [`may_send`] is the one check every sender asks before a message leaves.
mod check;
mod state;

pub use check::{
    may_send, outside_reply_window, purpose_refusal, SendBasis, DEFAULT_REPLY_WINDOW_DAYS,
};
pub use state::{current, resolve, ConsentState, Status};

use anyhow::Context;
use serde::Serialize;
use sqlx::{AnyConnection, FromRow};
use tsunagu_core::{new_id, ChannelId, ClinicId, Code, PatientId, Permission, Refusal};
use tsunagu_store::{channels, patients, Backend};

use crate::audit::{self, Actor, AuditEntry};

/// Why a message is sent. The API codes are stable.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Purpose {
    /// The patient's own care and appointments.
    Care,
    Reminders,
    HealthInformation,
    Marketing,
    /// Publishing photos of the patient (care facilities' newsletters, sites).
    PhotoPublication,
}

impl Purpose {
    pub const ALL: [Purpose; 5] = [
        Purpose::Care,
        Purpose::Reminders,
        Purpose::HealthInformation,
        Purpose::Marketing,
        Purpose::PhotoPublication,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Purpose::Care => "care",
            Purpose::Reminders => "reminders",
            Purpose::HealthInformation => "health_information",
            Purpose::Marketing => "marketing",
            Purpose::PhotoPublication => "photo_publication",
        }
    }

    pub fn parse(code: &str) -> Option<Purpose> {
        Purpose::ALL.into_iter().find(|p| p.code() == code)
    }

    /// Who may start a message for this purpose: any one of these permissions. Care concerns
    /// the patient's own treatment (and is implied once they write), so only those who answer
    /// patients send it; news, health information and photos are broadcasts; reminders are
    /// both a desk's and a scheduler's job, and always need the patient's own grant.
    pub fn sent_with(self) -> &'static [Permission] {
        match self {
            Purpose::Care => &[Permission::Reply],
            Purpose::Reminders => &[Permission::Reply, Permission::Broadcast],
            Purpose::HealthInformation | Purpose::Marketing | Purpose::PhotoPublication => {
                &[Permission::Broadcast]
            }
        }
    }

    /// The name patients and staff read (ja | en).
    pub fn label(self, lang: &str) -> &'static str {
        let ja = lang == "ja";
        match self {
            Purpose::Care if ja => "診療・ご予約に関するご連絡",
            Purpose::Care => "messages about your care and appointments",
            Purpose::Reminders if ja => "予約リマインダー",
            Purpose::Reminders => "appointment reminders",
            Purpose::HealthInformation if ja => "健康情報",
            Purpose::HealthInformation => "health information",
            Purpose::Marketing if ja => "お知らせ・キャンペーン",
            Purpose::Marketing => "news and offers",
            Purpose::PhotoPublication if ja => "写真の掲載",
            Purpose::PhotoPublication => "publication of photos",
        }
    }
}

/// Where a ledger row came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// The patient, in chat (配信停止, 配信設定).
    Chat,
    /// A form the patient filled in (paper or web), entered by staff or an integration.
    WebForm,
    /// Staff on the patient's word, with a reason.
    Staff,
    Import,
    Api,
}

impl Source {
    pub fn code(self) -> &'static str {
        match self {
            Source::Chat => "chat",
            Source::WebForm => "web_form",
            Source::Staff => "staff",
            Source::Import => "import",
            Source::Api => "api",
        }
    }
    pub fn parse(code: &str) -> Option<Source> {
        [
            Source::Chat,
            Source::WebForm,
            Source::Staff,
            Source::Import,
            Source::Api,
        ]
        .into_iter()
        .find(|s| s.code() == code)
    }
}

/// Who wrote a ledger row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConsentActor {
    /// The patient, through this channel identity.
    Patient {
        identity_id: String,
    },
    Staff(String),
    Token(String),
    System,
}

impl ConsentActor {
    fn parts(&self) -> (&'static str, Option<&str>) {
        match self {
            ConsentActor::Patient { identity_id } => ("patient", Some(identity_id)),
            ConsentActor::Staff(s) => ("staff", Some(s)),
            ConsentActor::Token(t) => ("token", Some(t)),
            ConsentActor::System => ("system", None),
        }
    }
    /// A patient's own chat command is carried out by tsunagu: the trail names the system.
    fn audit_actor(&self) -> Actor {
        match self {
            ConsentActor::Staff(s) => Actor::Staff(s.clone()),
            ConsentActor::Token(t) => Actor::Token(t.clone()),
            ConsentActor::Patient { .. } | ConsentActor::System => Actor::System,
        }
    }
}

pub struct NewConsent<'a> {
    pub clinic: &'a ClinicId,
    pub patient: &'a PatientId,
    pub purpose: Purpose,
    /// None: every channel.
    pub channel: Option<&'a ChannelId>,
    pub granted: bool,
    pub source: Source,
    /// The exact words shown to the patient.
    pub wording: &'a str,
    pub reason: Option<&'a str>,
    pub actor: ConsentActor,
    /// For the audit trail.
    pub source_ip: Option<&'a str>,
}

#[derive(Clone, Debug, FromRow, Serialize)]
pub struct ConsentEvent {
    pub seq: i64,
    pub id: String,
    pub clinic_id: String,
    pub patient_id: String,
    pub purpose: String,
    pub channel_id: Option<String>,
    pub granted: i64,
    pub source: String,
    pub wording: String,
    pub reason: Option<String>,
    pub actor_kind: String,
    pub actor_id: Option<String>,
    pub at: i64,
}

const COLS: &str =
    "seq, id, clinic_id, patient_id, purpose, channel_id, granted, source, wording, reason, actor_kind, actor_id, at";

/// A consent change is an event for the clinic's event rules (自動ルール), queued with the
/// ledger row it is: a retried request that appends no row queues nothing.
async fn queue_rule_event(
    conn: &mut AnyConnection,
    c: &NewConsent<'_>,
    ledger_id: &str,
    now_ms: i64,
) -> anyhow::Result<()> {
    use tsunagu_core::jobs::{EventRuleFire, RuleEventKind};
    use tsunagu_store::jobs::{enqueue, Enqueue};
    let event_key = format!("consent:{ledger_id}");
    let key = format!("event_rule:{event_key}");
    let job = EventRuleFire {
        clinic_id: c.clinic.clone(),
        kind: RuleEventKind::ConsentChanged,
        event_key,
        message_id: None,
        patient_id: Some(c.patient.as_str().to_owned()),
        conversation_id: None,
        tags: vec![],
        purpose: Some(c.purpose.code().to_owned()),
        granted: Some(c.granted),
        depth: 0,
    };
    let at = Enqueue {
        clinic_id: Some(c.clinic),
        idempotency_key: &key,
        run_at: now_ms,
    };
    enqueue(conn, &job, at, now_ms).await?;
    Ok(())
}

/// Appends one grant or withdrawal and its audit row (`consent.grant` / `consent.withdraw`,
/// subject the patient). Call it inside the caller's transaction. Refused (nothing written):
/// `wording_required`, `reason_required` (a staff entry), `unknown_patient`, `unknown_channel`.
pub async fn record(
    conn: &mut AnyConnection,
    backend: Backend,
    c: NewConsent<'_>,
    now_ms: i64,
) -> anyhow::Result<Result<ConsentEvent, Refusal>> {
    let wording = c.wording.trim();
    if wording.is_empty() {
        let why = "wording: the words the patient saw are required.";
        return Ok(Err(Refusal::new(Code::WordingRequired).detail(why)));
    }
    let reason = c.reason.map(str::trim).filter(|r| !r.is_empty());
    if c.source == Source::Staff && reason.is_none() {
        let why = "reason: a staff entry needs a reason.";
        return Ok(Err(Refusal::new(Code::ReasonRequired).detail(why)));
    }
    if patients::by_id(&mut *conn, c.clinic, c.patient)
        .await?
        .is_none()
    {
        return Ok(Err(Refusal::new(Code::UnknownPatient)));
    }
    if let Some(ch) = c.channel {
        if channels::by_id(&mut *conn, c.clinic, ch).await?.is_none() {
            let why = "No such channel in this clinic.";
            return Ok(Err(Refusal::new(Code::UnknownChannel).detail(why)));
        }
    }
    let id = new_id();
    let (actor_kind, actor_id) = c.actor.parts();
    sqlx::query(
        "INSERT INTO consent_events (id, clinic_id, patient_id, purpose, channel_id, granted, source, wording, reason, actor_kind, actor_id, at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(&id)
    .bind(c.clinic.as_str())
    .bind(c.patient.as_str())
    .bind(c.purpose.code())
    .bind(c.channel.map(|ch| ch.as_str()))
    .bind(c.granted as i64)
    .bind(c.source.code())
    .bind(wording)
    .bind(reason)
    .bind(actor_kind)
    .bind(actor_id)
    .bind(now_ms)
    .execute(&mut *conn)
    .await
    .context("appending to the consent ledger")?;
    queue_rule_event(&mut *conn, &c, &id, now_ms).await?;
    let actor = c.actor.audit_actor();
    let entry = AuditEntry {
        clinic_id: Some(c.clinic),
        actor: &actor,
        action: if c.granted {
            "consent.grant"
        } else {
            "consent.withdraw"
        },
        subject_type: Some("patient"),
        subject_ids: &[c.patient.as_str()],
        source_ip: c.source_ip,
    };
    audit::record(&mut *conn, backend, entry, now_ms).await?;
    let row = sqlx::query_as(&format!("SELECT {COLS} FROM consent_events WHERE id = $1"))
        .bind(&id)
        .fetch_one(conn)
        .await
        .context("reading back the consent entry")?;
    Ok(Ok(row))
}

/// Every entry of the patient, oldest first.
pub async fn history(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    patient: &PatientId,
) -> anyhow::Result<Vec<ConsentEvent>> {
    sqlx::query_as(&format!("SELECT {COLS} FROM consent_events WHERE clinic_id = $1 AND patient_id = $2 ORDER BY at, seq"))
        .bind(clinic.as_str())
        .bind(patient.as_str())
        .fetch_all(conn)
        .await
        .context("reading the consent history")
}
