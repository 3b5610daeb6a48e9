//! Durable job kinds and their payloads: one struct per kind, serialized by the producer
//! (`tsunagu_store::jobs::enqueue`) and decoded for the consumer (its registered handler), so the
//! two cannot disagree on the shape. The field names are the stored JSON: renaming one breaks
//! jobs already queued, so add fields with `#[serde(default)]` instead.
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::{ChannelId, ChannelIdentityId, ClinicId, MessageId};

/// A job kind: its name in `outbox_jobs.kind` and, as the type, its payload.
pub trait JobPayload: Serialize + DeserializeOwned + Send + Sync + 'static {
    const KIND: &'static str;

    /// The message this job delivers, if any: it leaves only after the earlier jobs of that
    /// message's conversation, so a person's lines arrive in the order written.
    fn delivers(&self) -> Option<&MessageId> {
        None
    }
}

/// `message.send`: deliver one outbound message (idempotency key `send:<message id>`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SendMessage {
    pub message_id: MessageId,
    pub channel_id: ChannelId,
    /// Provider address: LINE user/group id, WhatsApp wa_id, Messenger PSID, E.164 number.
    pub to: String,
    /// Message objects: LINE's own, or tsunagu's (`{"type":"text","text"}`,
    /// `{"type":"template",…}`) which each provider's sender turns into its wire format.
    pub messages: Vec<serde_json::Value>,
    /// LINE `X-Line-Retry-Key`: fixed at enqueue so every attempt carries the same key.
    pub retry_key: String,
    /// `line`, `whatsapp`, `messenger`, `sms`: decides whether an unknown outcome is in doubt.
    /// Jobs queued before other kinds existed have none and are LINE pushes.
    #[serde(default)]
    pub channel_kind: Option<String>,
    /// The clinic-side address to send from (conversation's `via`), if the channel has several.
    #[serde(default)]
    pub via: Option<String>,
    /// Messenger `messaging_type`/`tag` decided by the reachability check (`HUMAN_AGENT`).
    #[serde(default)]
    pub tag: Option<String>,
    /// An automated answer with a reply token (LINE): sent as a reply, never as a push.
    #[serde(default)]
    pub reply: Option<ReplyToken>,
}

/// A provider's reply token and when it was issued (its lifetime runs from the event).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ReplyToken {
    pub token: String,
    pub issued_at_ms: i64,
}

impl JobPayload for SendMessage {
    const KIND: &'static str = "message.send";

    fn delivers(&self) -> Option<&MessageId> {
        Some(&self.message_id)
    }
}

/// `line.reply`: an automated answer with a LINE reply token (key `reply:<channel>:<token>`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LineReply {
    pub message_id: MessageId,
    pub channel_id: ChannelId,
    pub reply_token: String,
    /// When LINE issued the token (the event's timestamp): the token's lifetime runs from here.
    pub reply_token_at_ms: i64,
    pub messages: Vec<serde_json::Value>,
}

impl JobPayload for LineReply {
    const KIND: &'static str = "line.reply";

    fn delivers(&self) -> Option<&MessageId> {
        Some(&self.message_id)
    }
}

/// `line.fetch_profile`: a new LINE user's name and picture.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LineFetchProfile {
    pub channel_id: ChannelId,
    pub identity_id: ChannelIdentityId,
    pub user_id: String,
}

impl JobPayload for LineFetchProfile {
    const KIND: &'static str = "line.fetch_profile";
}

/// `line.fetch_content`: an inbound LINE message's media, from the content endpoint.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct LineFetchContent {
    pub channel_id: ChannelId,
    /// Our message the media belongs to.
    pub message_id: MessageId,
    pub line_message_id: String,
}

impl JobPayload for LineFetchContent {
    const KIND: &'static str = "line.fetch_content";
}

/// `channel.fetch_media`: an inbound message's media, downloaded at once (links expire), by the
/// channel's adapter (LINE's reference is `{"message_id": "<LINE message id>"}`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FetchMedia {
    pub channel_id: ChannelId,
    pub message_id: MessageId,
    /// The provider's media reference, as its adapter reads it.
    pub media: serde_json::Value,
}

impl JobPayload for FetchMedia {
    const KIND: &'static str = "channel.fetch_media";
}

/// `messenger.fetch_profile`: a new Messenger user's name and picture.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct MessengerFetchProfile {
    pub channel_id: ChannelId,
    pub identity_id: ChannelIdentityId,
    pub page_id: String,
    pub psid: String,
}

impl JobPayload for MessengerFetchProfile {
    const KIND: &'static str = "messenger.fetch_profile";
}

/// `channel.fetch_profile`: a new patient's name and picture from the provider (LINE profile,
/// Messenger user profile), by the channel's adapter.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FetchProfile {
    pub channel_id: ChannelId,
    pub identity_id: ChannelIdentityId,
    /// The provider's id of the person (LINE user id, PSID).
    pub user_id: String,
    /// The clinic-side address to ask through (Messenger page id), if the channel has several.
    #[serde(default)]
    pub via: Option<String>,
}

impl JobPayload for FetchProfile {
    const KIND: &'static str = "channel.fetch_profile";
}

/// `channel.mark_read`: show the patient that staff read their messages up to this one (LINE
/// `markAsRead`), when a person opened the conversation (key `mark_read:<message id>`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct MarkRead {
    pub channel_id: ChannelId,
    /// The patient's message, whose stored payload carries the provider's token.
    pub message_id: MessageId,
}

impl JobPayload for MarkRead {
    const KIND: &'static str = "channel.mark_read";
}

/// `channel.show_loading`: LINE's loading indicator while the bot works on an answer (a flow's
/// webhook step); best effort, never retried, never holding a reply back.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ShowLoading {
    pub channel_id: ChannelId,
    /// The provider's id of the person (LINE user id).
    pub user_id: String,
    pub seconds: u32,
}

impl JobPayload for ShowLoading {
    const KIND: &'static str = "channel.show_loading";
}

/// `conversation.scheduled_send`: a scheduled message whose time has come (key
/// `scheduled:<id>:<send_at>`: changing the time queues another, and this one finds nothing).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ScheduledSend {
    pub clinic_id: ClinicId,
    pub scheduled_id: String,
    /// The time it was queued for.
    pub send_at: i64,
}

impl JobPayload for ScheduledSend {
    const KIND: &'static str = "conversation.scheduled_send";
}

/// `whatsapp.sync_templates`: submit a channel's draft templates to Meta and record every
/// template's review state (key `templates:<channel>:<minute or webhook>`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct WhatsAppSyncTemplates {
    pub channel_id: ChannelId,
}

impl JobPayload for WhatsAppSyncTemplates {
    const KIND: &'static str = "whatsapp.sync_templates";
}

/// `inbound.dispatch`: decide who answers a new inbound message (key `dispatch:<message id>`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct InboundDispatch {
    pub clinic_id: ClinicId,
    pub message_id: MessageId,
}

impl JobPayload for InboundDispatch {
    const KIND: &'static str = "inbound.dispatch";
}

/// `triage.escalate`: step `step` of an urgent message's on-call alert (key
/// `triage.escalate:<alert>:<step>`): step 0 tells the first person on call at once, each later
/// step (N minutes apart) the next one while nobody has opened the conversation, and the step
/// after the last tells everyone on the rota.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TriageEscalate {
    pub alert_id: String,
    pub step: i64,
}

impl JobPayload for TriageEscalate {
    const KIND: &'static str = "triage.escalate";
}

/// `conversation.wake`: open every snoozed conversation whose time has come (key
/// `wake:<conversation>:<ms>`, due at that time); stored as `{}`. Queries already count them as
/// open; the job makes the rows say so and tells open pages.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct WakeSnoozed {}

impl JobPayload for WakeSnoozed {
    const KIND: &'static str = "conversation.wake";
}

/// `privacy.retention`: the daily retention pass over every clinic (key
/// `retention:<YYYY-MM-DD>`); stored as `{}`.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct PrivacyRetention {}

impl JobPayload for PrivacyRetention {
    const KIND: &'static str = "privacy.retention";
}

/// `rich_menu.publish`: create a rich menu on LINE with its image and alias, set it as the
/// default if it is one, move everyone from the LINE menu it replaces (key
/// `rich_menu.publish:<menu>:<updated_at>`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RichMenuPublish {
    pub rich_menu_id: String,
}

impl JobPayload for RichMenuPublish {
    const KIND: &'static str = "rich_menu.publish";
}

/// `rich_menu.set_default`: tell LINE the channel's default menu, or cancel it when the channel
/// has none (key `rich_menu.default:<channel>:<ms>`).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RichMenuSetDefault {
    pub channel_id: ChannelId,
}

impl JobPayload for RichMenuSetDefault {
    const KIND: &'static str = "rich_menu.set_default";
}

/// `rich_menu.assign`: bring LINE's per-person menus in line with the tag rules, for one
/// patient (their tags changed) or every LINE friend of a channel (a rule or menu changed).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RichMenuAssign {
    pub clinic_id: ClinicId,
    #[serde(default)]
    pub patient_id: Option<String>,
    #[serde(default)]
    pub channel_id: Option<ChannelId>,
}

impl JobPayload for RichMenuAssign {
    const KIND: &'static str = "rich_menu.assign";
}

/// `rich_menu.batch_progress`: ask LINE how a batch relink is going until it is done.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RichMenuBatchProgress {
    pub batch_id: String,
}

impl JobPayload for RichMenuBatchProgress {
    const KIND: &'static str = "rich_menu.batch_progress";
}

/// `flow.timeout`: end a flow run nobody answered, politely, if it has not moved since
/// (key `flow.timeout:<run>:<expires_at>`; each answer queues the next).
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FlowTimeout {
    pub clinic_id: ClinicId,
    pub run_id: String,
    /// The deadline this job was queued for: a run answered since has a later one.
    pub expires_at: i64,
}

impl JobPayload for FlowTimeout {
    const KIND: &'static str = "flow.timeout";
}

/// `flow.webhook`: one signed delivery of a flow event to the URL a flow names (key
/// `flow.webhook:<delivery id>`), retried with backoff for 24 hours; the body is fixed when
/// queued, so every attempt carries the same delivery id and content.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct FlowWebhook {
    pub clinic_id: ClinicId,
    pub flow_id: String,
    /// Set when an event rule's webhook action queued it (`flow_id` is then empty): signed with
    /// that rule's key.
    #[serde(default)]
    pub rule_id: Option<String>,
    pub url: String,
    /// `{id, type, created_at, data}` as sent.
    pub body: String,
    /// When the first attempt was due: retries stop 24 hours after it.
    pub first_at: i64,
}

impl JobPayload for FlowWebhook {
    const KIND: &'static str = "flow.webhook";
}

/// `sequence.step`: send one step of a drip sequence to one enrolled patient (key
/// `sequence.step:<enrollment>:<position>`, due at the step's time), then schedule the next.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SequenceStep {
    pub clinic_id: ClinicId,
    pub enrollment_id: String,
    pub position: i64,
}

impl JobPayload for SequenceStep {
    const KIND: &'static str = "sequence.step";
}

/// `sequence.trigger`: a patient's tags or custom fields changed (queued by `contacts` in the
/// transaction that changed them): enroll them where a sequence's trigger matches, stop
/// enrollments whose goal tag they now have.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SequenceTrigger {
    pub clinic_id: ClinicId,
    pub patient_id: String,
    /// Tags the patient did not have before.
    #[serde(default)]
    pub tags_added: Vec<String>,
    /// Custom fields set, as (field id, value).
    #[serde(default)]
    pub fields_set: Vec<(String, String)>,
}

impl JobPayload for SequenceTrigger {
    const KIND: &'static str = "sequence.trigger";
}

/// What happened, for the event rules (自動ルール): the trigger a rule names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleEventKind {
    MessageReceived,
    ConversationOpened,
    ConversationResolved,
    PatientTagged,
    FriendAdded,
    FriendBlocked,
    ConsentChanged,
}

impl RuleEventKind {
    pub const ALL: [RuleEventKind; 7] = [
        RuleEventKind::MessageReceived,
        RuleEventKind::ConversationOpened,
        RuleEventKind::ConversationResolved,
        RuleEventKind::PatientTagged,
        RuleEventKind::FriendAdded,
        RuleEventKind::FriendBlocked,
        RuleEventKind::ConsentChanged,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RuleEventKind::MessageReceived => "message_received",
            RuleEventKind::ConversationOpened => "conversation_opened",
            RuleEventKind::ConversationResolved => "conversation_resolved",
            RuleEventKind::PatientTagged => "patient_tagged",
            RuleEventKind::FriendAdded => "friend_added",
            RuleEventKind::FriendBlocked => "friend_blocked",
            RuleEventKind::ConsentChanged => "consent_changed",
        }
    }

    pub fn parse(s: &str) -> Option<RuleEventKind> {
        RuleEventKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// `event_rule.fire`: something happened that event rules may act on, queued in the
/// transaction that made it happen (key `event_rule:<event key>`): a redelivered webhook or a
/// retried job queues or fires nothing twice. Message-based events name the message; the others
/// the patient and, where there is one, the conversation.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct EventRuleFire {
    pub clinic_id: ClinicId,
    pub kind: RuleEventKind,
    /// Unique per event (`tag:<id>`, `consent:<ledger id>`, `message:<id>`…): each rule fires
    /// at most once for it.
    pub event_key: String,
    #[serde(default)]
    pub message_id: Option<MessageId>,
    #[serde(default)]
    pub patient_id: Option<String>,
    #[serde(default)]
    pub conversation_id: Option<String>,
    /// Tags the patient did not have before (patient_tagged).
    #[serde(default)]
    pub tags: Vec<String>,
    /// The consent purpose and whether it was granted (consent_changed).
    #[serde(default)]
    pub purpose: Option<String>,
    #[serde(default)]
    pub granted: Option<bool>,
    /// How many rule firings led here (a rule that tags makes the next one depth + 1); bounded.
    #[serde(default)]
    pub depth: u8,
}

impl JobPayload for EventRuleFire {
    const KIND: &'static str = "event_rule.fire";
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rows queued before the typed payloads must still read (same field names).
    #[test]
    fn stored_payloads_read_back() {
        let send = r#"{"message_id":"m","channel_id":"c","to":"U1","messages":[],"retry_key":"k"}"#;
        let p: SendMessage = serde_json::from_str(send).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!((p.message_id.as_str(), p.channel_kind), ("m", None));
        let retention: PrivacyRetention =
            serde_json::from_str("{}").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(serde_json::json!(retention), serde_json::json!({}));
        let media = r#"{"channel_id":"c","message_id":"m","media":{"media_id":"1"}}"#;
        let p: FetchMedia = serde_json::from_str(media).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(p.media["media_id"], "1");
    }
}

/// `satisfaction.ask`: a conversation was resolved (queued by `inbox::state` in the resolving
/// transaction, key `satisfaction:<conversation>:<resolved_at>`). The handler waits out the
/// clinic's delay and asks the patient for a score if the conversation is still resolved then.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct SatisfactionAsk {
    pub clinic_id: ClinicId,
    pub conversation_id: String,
    pub resolved_at: i64,
}

impl JobPayload for SatisfactionAsk {
    const KIND: &'static str = "satisfaction.ask";
}
