//! The webhook driver: builds events like LINE's, signs the exact bytes it posts, and plays the
//! patient's side (reply tokens issued, media to download, follow/block state).
use anyhow::Context as _;
use base64::{engine::general_purpose::STANDARD as BASE64, Engine as _};
use bytes::Bytes;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

use super::state::{Content, ReadToken, ReplyToken};
use super::{ids, LineSandbox, UserProfile};

/// Base64(HMAC-SHA256(channel secret, body)): LINE's `x-line-signature`.
pub fn sign(channel_secret: &str, body: &[u8]) -> String {
    match Hmac::<Sha256>::new_from_slice(channel_secret.as_bytes()) {
        Ok(mut mac) => {
            mac.update(body);
            BASE64.encode(mac.finalize().into_bytes())
        }
        Err(_) => String::new(), // HMAC takes keys of any length
    }
}

impl LineSandbox {
    /// Posts one event to the channel's webhook (see [`LineSandbox::send_events`]).
    pub async fn send_event(
        &self,
        access_token_or_channel: &str,
        event: Value,
    ) -> anyhow::Result<u16> {
        self.send_events(access_token_or_channel, vec![event]).await
    }

    /// LINE doc: Messaging API reference › Webhooks › "Request body" and "Signature validation".
    /// Wraps the events in `{"destination": bot_user_id, "events": […]}`, serialises once, signs
    /// those bytes and POSTs them. Returns the webhook's HTTP status.
    pub async fn send_events(
        &self,
        access_token_or_channel: &str,
        mut events: Vec<Value>,
    ) -> anyhow::Result<u16> {
        let (token, secret, url, bot) = self.webhook_target(access_token_or_channel)?;
        for event in &mut events {
            self.apply_patient_side(&token, &bot, event);
        }
        let body = serde_json::to_vec(&json!({ "destination": bot, "events": events }))
            .context("serialising the webhook body")?;
        let signature = sign(&secret, &body);
        self.post_webhook(&url, body, signature).await
    }

    /// Posts `body` as is (fixtures, malformed bodies), signed correctly unless `signature_override`.
    pub async fn send_raw(
        &self,
        access_token_or_channel: &str,
        body: impl Into<Vec<u8>>,
        signature_override: Option<String>,
    ) -> anyhow::Result<u16> {
        let (_, secret, url, _) = self.webhook_target(access_token_or_channel)?;
        let body = body.into();
        let signature = signature_override.unwrap_or_else(|| sign(&secret, &body));
        self.post_webhook(&url, body, signature).await
    }

    /// LINE doc: Messaging API › "Webhook redelivery": the same event, same `webhookEventId`,
    /// with `deliveryContext.isRedelivery: true`.
    pub async fn redeliver(
        &self,
        access_token_or_channel: &str,
        event: &Value,
    ) -> anyhow::Result<u16> {
        let mut event = event.clone();
        if let Some(obj) = event.as_object_mut() {
            obj.insert("deliveryContext".into(), json!({ "isRedelivery": true }));
        }
        self.send_events(access_token_or_channel, vec![event]).await
    }

    /// A text message from a user in a one-to-one chat.
    pub fn user_text(&self, user_id: &str, text: &str) -> Value {
        let message = json!({ "id": self.new_message_id(), "type": "text", "text": text,
                              "quoteToken": ids::quote_token() });
        self.message_event(user_source(user_id), user_id, message)
    }

    /// An image sent by a user; the sandbox makes a small real PNG served by the content endpoint.
    pub fn user_image(&self, user_id: &str) -> Value {
        let id = self.new_message_id();
        let shade = u8::try_from(self.lock().next_message_id % 200).unwrap_or(0);
        self.lock().contents.insert(
            id.clone(),
            Content {
                channel: None,
                content_type: "image/png".into(),
                bytes: Bytes::from(crate::png::png(16, [6, 199, shade])),
            },
        );
        let message = json!({ "id": id, "type": "image", "contentProvider": { "type": "line" },
                              "quoteToken": ids::quote_token() });
        self.message_event(user_source(user_id), user_id, message)
    }

    /// A text message from a member of a group chat.
    pub fn group_text(&self, group_id: &str, user_id: &str, text: &str) -> Value {
        let source = json!({ "type": "group", "groupId": group_id, "userId": user_id });
        let message = json!({ "id": self.new_message_id(), "type": "text", "text": text,
                              "quoteToken": ids::quote_token() });
        self.message_event(source, group_id, message)
    }

    /// The user added the bot as a friend (`isUnblocked` is set when sent, from the block state).
    pub fn follow(&self, user_id: &str) -> Value {
        let mut e = self.base_event("follow", user_source(user_id));
        e["follow"] = json!({ "isUnblocked": false });
        self.issue_reply_token(&mut e, user_id);
        e
    }

    /// The user blocked the bot. No reply token, as on LINE.
    pub fn unfollow(&self, user_id: &str) -> Value {
        self.base_event("unfollow", user_source(user_id))
    }

    pub fn postback(&self, user_id: &str, data: &str) -> Value {
        self.postback_with_params(user_id, data, None)
    }

    /// A postback with `params`, e.g. `{"datetime": "2025-04-01T10:00"}` from a datetime picker.
    pub fn postback_with_params(&self, user_id: &str, data: &str, params: Option<Value>) -> Value {
        let mut e = self.base_event("postback", user_source(user_id));
        e["postback"] = json!({ "data": data });
        if let Some(p) = params {
            e["postback"]["params"] = p;
        }
        self.issue_reply_token(&mut e, user_id);
        e
    }

    /// The user unsent one of their messages.
    pub fn unsend(&self, user_id: &str, message_id: &str) -> Value {
        let mut e = self.base_event("unsend", user_source(user_id));
        e["unsend"] = json!({ "messageId": message_id });
        e
    }

    fn base_event(&self, kind: &str, source: Value) -> Value {
        let now = self.now().timestamp_millis();
        json!({ "type": kind, "mode": "active", "timestamp": now, "source": source,
                "webhookEventId": ids::ulid(now), "deliveryContext": { "isRedelivery": false } })
    }

    fn message_event(&self, source: Value, thread: &str, mut message: Value) -> Value {
        // LINE gives a user's message in a one-to-one chat a token to mark it read.
        if source["type"] == "user" {
            let token = ids::mark_as_read_token();
            let record = ReadToken {
                channel: None,
                thread: thread.to_owned(),
                message_id: message["id"].as_str().unwrap_or_default().to_owned(),
            };
            self.lock().read_tokens.insert(token.clone(), record);
            message["markAsReadToken"] = json!(token);
        }
        let mut e = self.base_event("message", source);
        e["message"] = message;
        self.issue_reply_token(&mut e, thread);
        e
    }

    fn issue_reply_token(&self, event: &mut Value, target: &str) {
        let token = ids::reply_token();
        let issued_at = self.now();
        let record = ReplyToken {
            channel: None,
            target: target.to_owned(),
            issued_at,
            used: false,
        };
        self.lock().reply_tokens.insert(token.clone(), record);
        event["replyToken"] = json!(token);
    }

    fn new_message_id(&self) -> String {
        self.lock().message_id()
    }

    fn webhook_target(&self, key: &str) -> anyhow::Result<(String, String, String, String)> {
        let st = self.lock();
        let token = st
            .resolve(key)
            .with_context(|| format!("no sandbox LINE channel {key:?}"))?;
        let c = st.channels.get(&token).context("channel vanished")?;
        let url = c
            .config
            .webhook_url
            .clone()
            .context("the sandbox channel has no webhook_url")?;
        Ok((
            token,
            c.config.channel_secret.clone(),
            url,
            c.config.bot_user_id.clone(),
        ))
    }

    /// What the event means on LINE's side before it is delivered: reply tokens and media belong to
    /// this channel, the patient's message enters the chat, follow/unfollow change the block state.
    fn apply_patient_side(&self, token: &str, bot: &str, event: &mut Value) {
        let now = self.now();
        let redelivery = event
            .pointer("/deliveryContext/isRedelivery")
            .and_then(Value::as_bool)
            == Some(true);
        let mut st = self.lock();
        if let Some(rt) = event.get("replyToken").and_then(Value::as_str) {
            if let Some(t) = st.reply_tokens.get_mut(rt) {
                t.channel = Some(token.to_owned());
                if !redelivery {
                    t.issued_at = now;
                }
            }
        }
        if let Some(t) = event
            .pointer("/message/markAsReadToken")
            .and_then(Value::as_str)
            .and_then(|t| st.read_tokens.get_mut(t))
        {
            t.channel = Some(token.to_owned());
        }
        if redelivery {
            return;
        }
        let user = event
            .pointer("/source/userId")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let thread = ["userId", "groupId", "roomId"]
            .iter()
            .rev()
            .find_map(|k| {
                event
                    .get("source")
                    .and_then(|s| s.get(*k))
                    .and_then(Value::as_str)
            })
            .map(str::to_owned);
        match event.get("type").and_then(Value::as_str) {
            Some("message") => {
                if let Some(id) = event.pointer("/message/id").and_then(Value::as_str) {
                    if let Some(c) = st.contents.get_mut(id) {
                        c.channel = Some(token.to_owned());
                    }
                }
                if let (Some(thread), Some(m)) = (thread, event.get("message")) {
                    st.log_chat(&thread, "user", bot, m.clone(), now);
                }
            }
            Some("follow") => {
                let Some(user) = user else { return };
                let Some(c) = st.channels.get_mut(token) else {
                    return;
                };
                let unblocked = c.blocked.remove(&user);
                if let Some(f) = event.get_mut("follow").and_then(Value::as_object_mut) {
                    f.insert("isUnblocked".into(), json!(unblocked));
                }
                if !c.users.iter().any(|u| u.user_id == user) {
                    c.users.push(UserProfile {
                        user_id: user,
                        display_name: "LINEユーザー".into(),
                        ..Default::default()
                    });
                }
            }
            Some("unfollow") => {
                if let (Some(user), Some(c)) = (user, st.channels.get_mut(token)) {
                    c.blocked.insert(user);
                }
            }
            _ => {}
        }
    }

    async fn post_webhook(
        &self,
        url: &str,
        body: Vec<u8>,
        signature: String,
    ) -> anyhow::Result<u16> {
        let resp = self
            .inner
            .http
            .post(url)
            .header("content-type", "application/json; charset=utf-8")
            .header("user-agent", "LineBotWebhook/2.0")
            .header("x-line-signature", signature)
            .body(body)
            .send()
            .await
            .with_context(|| format!("posting the LINE webhook to {url}"))?;
        Ok(resp.status().as_u16())
    }
}

fn user_source(user_id: &str) -> Value {
    json!({ "type": "user", "userId": user_id })
}
