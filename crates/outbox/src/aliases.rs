//! Job kinds from before every provider shared one path (`line.reply`, `line.fetch_profile`,
//! `line.fetch_content`, `messenger.fetch_profile`): jobs queued before the upgrade still run,
//! each turned into the payload of the kind that replaced it.
use tsunagu_channels::ChannelKind;
use tsunagu_core::jobs::{
    FetchMedia, FetchProfile, LineFetchContent, LineFetchProfile, LineReply, MessengerFetchProfile,
    ReplyToken, SendMessage,
};

/// `line.reply` → `message.send` with the reply token (sent as a reply, never as a push).
pub(crate) fn line_reply(p: LineReply) -> SendMessage {
    SendMessage {
        message_id: p.message_id,
        channel_id: p.channel_id,
        // A reply is addressed by its token.
        to: String::new(),
        messages: p.messages,
        retry_key: String::new(),
        channel_kind: Some(ChannelKind::Line.as_str().to_string()),
        via: None,
        tag: None,
        reply: Some(ReplyToken {
            token: p.reply_token,
            issued_at_ms: p.reply_token_at_ms,
        }),
    }
}

/// `line.fetch_profile` → `channel.fetch_profile`.
pub(crate) fn line_profile(p: LineFetchProfile) -> FetchProfile {
    FetchProfile {
        channel_id: p.channel_id,
        identity_id: p.identity_id,
        user_id: p.user_id,
        via: None,
    }
}

/// `line.fetch_content` → `channel.fetch_media` with LINE's reference.
pub(crate) fn line_content(p: LineFetchContent) -> FetchMedia {
    FetchMedia {
        channel_id: p.channel_id,
        message_id: p.message_id,
        media: serde_json::json!({ "message_id": p.line_message_id }),
    }
}

/// `messenger.fetch_profile` → `channel.fetch_profile` through the page.
pub(crate) fn messenger_profile(p: MessengerFetchProfile) -> FetchProfile {
    FetchProfile {
        channel_id: p.channel_id,
        identity_id: p.identity_id,
        user_id: p.psid,
        via: Some(p.page_id),
    }
}
