//! Names of durable job kinds: enqueued by the domain crates, run by the outbox workers.

/// Deliver one outbound message (payload: `tsunagu_inbox::reply::SendJob`).
pub const SEND_MESSAGE: &str = "message.send";
/// Fetch a new LINE user's profile (name, picture).
pub const LINE_FETCH_PROFILE: &str = "line.fetch_profile";
/// Download an inbound LINE message's media from the content endpoint.
pub const LINE_FETCH_CONTENT: &str = "line.fetch_content";
/// Answer a LINE event with its reply token (payload: `tsunagu_inbox::reply::ReplyJob`).
pub const LINE_REPLY: &str = "line.reply";
/// Decide who answers a new inbound message (payload: `tsunagu_dispatch::InboundJob`).
pub const INBOUND_DISPATCH: &str = "inbound.dispatch";
/// The daily retention pass over every clinic (idempotency key `retention:<YYYY-MM-DD>`).
pub const PRIVACY_RETENTION: &str = "privacy.retention";
/// Download an inbound message's media from WhatsApp, Messenger or Twilio right away (their
/// links expire); payload names the channel, the message and the provider's media reference.
pub const FETCH_MEDIA: &str = "channel.fetch_media";
/// Submit a WhatsApp channel's draft templates to Meta and record every template's review state
/// (payload: `{"channel_id"}`; idempotency key `templates:<channel>:<minute>`).
pub const WHATSAPP_SYNC_TEMPLATES: &str = "whatsapp.sync_templates";
/// Fetch a new Messenger user's name and picture (payload: channel, identity, page, PSID).
pub const MESSENGER_FETCH_PROFILE: &str = "messenger.fetch_profile";
