//! The webhook driver: builds messaging items like Meta's, serialises them the way Meta does
//! (non-ASCII as lowercase `\uXXXX`, `/` as `\/`), signs those exact bytes with both headers Meta
//! sends, and plays the person's side (window opened, chat logged, media stored).
use anyhow::Context as _;
use bytes::Bytes;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha1::Sha1;
use sha2::Sha256;

use super::state::{ChatEntry, Media};
use super::{MessengerSandbox, MessengerUser};

/// One webhook POST: what was sent and how the endpoint answered.
#[derive(Clone, Debug)]
pub struct Posted {
    pub status: u16,
    /// The exact bytes posted (and signed).
    pub body: Vec<u8>,
    pub json: Value,
    /// The `mid` of the message or postback it carried, if any.
    pub mid: Option<String>,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `sha256=<hex HMAC-SHA256(app secret, body)>`: Meta's `X-Hub-Signature-256`.
pub fn sign_sha256(app_secret: &str, body: &[u8]) -> String {
    match Hmac::<Sha256>::new_from_slice(app_secret.as_bytes()) {
        Ok(mut mac) => {
            mac.update(body);
            format!("sha256={}", hex(&mac.finalize().into_bytes()))
        }
        Err(_) => String::new(), // HMAC takes keys of any length
    }
}

/// `sha1=<hex HMAC-SHA1(app secret, body)>`: the legacy `X-Hub-Signature` Meta still sends.
pub fn sign_sha1(app_secret: &str, body: &[u8]) -> String {
    match Hmac::<Sha1>::new_from_slice(app_secret.as_bytes()) {
        Ok(mut mac) => {
            mac.update(body);
            format!("sha1={}", hex(&mac.finalize().into_bytes()))
        }
        Err(_) => String::new(),
    }
}

/// Meta doc: Webhooks › "Validate payloads" — Meta signs an escaped-unicode payload with
/// lowercase hex digits; slashes come escaped too. Both only occur inside JSON strings, so
/// escaping the serialised text character by character keeps it valid JSON.
pub fn meta_json(value: &Value) -> Vec<u8> {
    let plain = value.to_string();
    let mut out = String::with_capacity(plain.len() + 16);
    for c in plain.chars() {
        if c == '/' {
            out.push_str("\\/");
        } else if c.is_ascii() {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for unit in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{unit:04x}"));
            }
        }
    }
    out.into_bytes()
}

impl MessengerSandbox {
    /// Meta doc: Webhook events › "messages" (text).
    pub async fn user_text(&self, page: &str, psid: &str, text: &str) -> anyhow::Result<Posted> {
        self.inbound(page, psid, json!({ "text": text })).await
    }

    /// An image from the person; the sandbox stores a small PNG at an absolute attachment URL.
    pub async fn user_image(&self, page: &str, psid: &str) -> anyhow::Result<Posted> {
        self.user_images(page, psid, 1).await
    }

    /// Several images in one message, as Messenger sends a multi-photo pick (one `mid`, one
    /// attachment each, every one with its own URL).
    pub async fn user_images(
        &self,
        page: &str,
        psid: &str,
        count: usize,
    ) -> anyhow::Result<Posted> {
        let attachments: Vec<Value> = (0..count)
            .map(|_| json!({ "type": "image", "payload": { "url": self.store_png() } }))
            .collect();
        self.inbound(page, psid, json!({ "attachments": attachments }))
            .await
    }

    /// Stores a small PNG (a different shade each time) and returns its attachment URL.
    fn store_png(&self) -> String {
        let mut st = self.lock();
        st.next_id += 1;
        let id = format!("img{}", st.next_id);
        let shade = u8::try_from(st.next_id % 200).unwrap_or(0);
        let media = Media {
            content_type: "image/png".into(),
            bytes: Bytes::from(crate::png::png(16, [24, 119, 242u8.saturating_sub(shade)])),
        };
        st.media.insert(id.clone(), media);
        st.media_url(&id)
    }

    /// Meta doc: Webhook events › "messages" › `quick_reply.payload` (the tapped title as text).
    pub async fn quick_reply(
        &self,
        page: &str,
        psid: &str,
        title: &str,
        payload: &str,
    ) -> anyhow::Result<Posted> {
        let message = json!({ "text": title, "quick_reply": { "payload": payload } });
        self.inbound(page, psid, message).await
    }

    /// Meta doc: Webhook events › "messaging_postbacks".
    pub async fn postback(
        &self,
        page: &str,
        psid: &str,
        title: &str,
        payload: &str,
    ) -> anyhow::Result<Posted> {
        let mid = self.lock().mid();
        let postback = json!({ "mid": mid, "title": title, "payload": payload });
        self.record_inbound(page, psid, &mid, json!({ "postback": postback }));
        let item = self.item(page, psid, "postback", postback);
        self.post_item(page, item, Some(mid)).await
    }

    /// The person follows `m.me/{page}?ref={ref}` (Meta doc: Discovery › m.me Links). Someone
    /// who never wrote to the page taps Get Started: a `messaging_postbacks` item whose
    /// `postback.referral` carries the ref. Someone with a thread is taken back to it: a
    /// `messaging_referrals` item. Either one reopens the 24-hour window.
    pub async fn open_link(
        &self,
        page: &str,
        psid: &str,
        ref_param: &str,
    ) -> anyhow::Result<Posted> {
        let referral = json!({ "ref": ref_param, "source": "SHORTLINK", "type": "OPEN_THREAD" });
        let known = self
            .lock()
            .last_inbound
            .contains_key(&(page.to_owned(), psid.to_owned()));
        if known {
            let mid = self.lock().mid(); // the chat shows the link's notice, not a message
            self.record_inbound(page, psid, &mid, json!({ "referral": referral.clone() }));
            let item = self.item(page, psid, "referral", referral);
            return self.post_item(page, item, None).await;
        }
        let mid = self.lock().mid();
        let postback = json!({ "mid": mid, "title": "Get Started", "payload": "GET_STARTED",
            "referral": referral });
        self.record_inbound(page, psid, &mid, json!({ "postback": postback.clone() }));
        let item = self.item(page, psid, "postback", postback);
        self.post_item(page, item, Some(mid)).await
    }

    /// Meta doc: Webhook events › "message_reactions"; `emoji: None` removes the reaction.
    pub async fn reaction(
        &self,
        page: &str,
        psid: &str,
        mid: &str,
        emoji: Option<&str>,
    ) -> anyhow::Result<Posted> {
        let reaction = match emoji {
            Some(e) => json!({ "reaction": "other", "emoji": e, "action": "react", "mid": mid }),
            None => json!({ "action": "unreact", "mid": mid }),
        };
        let item = self.item(page, psid, "reaction", reaction);
        self.post_item(page, item, None).await
    }

    /// Meta doc: Webhook events › "message_deliveries" (watermark: now).
    pub async fn delivery(
        &self,
        page: &str,
        psid: &str,
        mids: &[String],
    ) -> anyhow::Result<Posted> {
        let watermark = self.now().timestamp_millis();
        let item = self.item(
            page,
            psid,
            "delivery",
            json!({ "mids": mids, "watermark": watermark }),
        );
        self.post_item(page, item, None).await
    }

    /// Meta doc: Webhook events › "message_reads".
    pub async fn read(&self, page: &str, psid: &str, watermark: i64) -> anyhow::Result<Posted> {
        let item = self.item(page, psid, "read", json!({ "watermark": watermark }));
        self.post_item(page, item, None).await
    }

    /// Posts a whole webhook body (fixtures, unknown items), serialised and signed like Meta.
    pub async fn post(&self, page: &str, body: &Value) -> anyhow::Result<Posted> {
        self.post_raw(page, meta_json(body), None).await
    }

    /// Posts `body` as is, signed correctly unless `signature_256_override` replaces the
    /// `X-Hub-Signature-256` value (the legacy SHA-1 header stays correct).
    pub async fn post_raw(
        &self,
        page: &str,
        body: Vec<u8>,
        signature_256_override: Option<String>,
    ) -> anyhow::Result<Posted> {
        let (url, secret) = self.webhook_target(page)?;
        let sig256 = signature_256_override.unwrap_or_else(|| sign_sha256(&secret, &body));
        let resp = self
            .inner
            .http
            .post(&url)
            .header("content-type", "application/json")
            .header("user-agent", "facebookexternalua")
            .header("x-hub-signature", sign_sha1(&secret, &body))
            .header("x-hub-signature-256", sig256)
            .body(body.clone())
            .send()
            .await
            .with_context(|| format!("posting the Messenger webhook to {url}"))?;
        let json = serde_json::from_slice(&body).unwrap_or(Value::Null);
        Ok(Posted {
            status: resp.status().as_u16(),
            body,
            json,
            mid: None,
        })
    }

    /// Meta retries a delivery that was not answered 200: the same bytes again.
    pub async fn redeliver(&self, page: &str, posted: &Posted) -> anyhow::Result<Posted> {
        let mut again = self.post_raw(page, posted.body.clone(), None).await?;
        again.mid.clone_from(&posted.mid);
        Ok(again)
    }

    /// Meta doc: Webhooks › "Verification Requests". True when `url` echoed the challenge.
    pub async fn verify_webhook(&self, url: &str, verify_token: &str) -> anyhow::Result<bool> {
        let challenge = (self.now().timestamp_millis() % 1_000_000_000).to_string();
        let resp = self
            .inner
            .http
            .get(url)
            .query(&[
                ("hub.mode", "subscribe"),
                ("hub.challenge", &challenge),
                ("hub.verify_token", verify_token),
            ])
            .send()
            .await
            .with_context(|| format!("verifying the Messenger webhook at {url}"))?;
        let ok = resp.status().as_u16() == 200;
        let body = resp.text().await.unwrap_or_default();
        Ok(ok && body == challenge)
    }

    /// After an accepted send (auto receipts): a delivery, then a read a moment later.
    pub(crate) async fn post_receipts(&self, page: &str, psid: &str, mid: &str) {
        if let Err(e) = self.delivery(page, psid, &[mid.to_owned()]).await {
            tracing::warn!(error = %format!("{e:#}"), "sandbox delivery receipt not posted");
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        let watermark = self.now().timestamp_millis();
        if let Err(e) = self.read(page, psid, watermark).await {
            tracing::warn!(error = %format!("{e:#}"), "sandbox read receipt not posted");
        }
    }

    /// A message from the person: opens the window, enters the chat, then is posted.
    async fn inbound(&self, page: &str, psid: &str, mut message: Value) -> anyhow::Result<Posted> {
        let mid = self.lock().mid();
        message["mid"] = json!(mid);
        self.record_inbound(page, psid, &mid, message.clone());
        let item = self.item(page, psid, "message", message);
        self.post_item(page, item, Some(mid)).await
    }

    fn record_inbound(&self, page: &str, psid: &str, mid: &str, message: Value) {
        let now = self.now();
        let mut st = self.lock();
        if let Some(p) = st.pages.get_mut(page) {
            if !p.users.iter().any(|u| u.psid == psid) {
                p.users.push(MessengerUser {
                    psid: psid.to_owned(),
                    first_name: "Messenger".into(),
                    last_name: "User".into(),
                    profile_pic: None,
                });
            }
        }
        st.last_inbound
            .insert((page.to_owned(), psid.to_owned()), now);
        let entry = ChatEntry {
            from: "user",
            at: now,
            mid: mid.to_owned(),
            message,
        };
        st.log_chat(page, psid, entry);
    }

    /// Meta doc: Webhooks › "Event format" — one messaging item from the person to the page.
    fn item(&self, page: &str, psid: &str, key: &str, value: Value) -> Value {
        let mut item = json!({
            "sender": { "id": psid },
            "recipient": { "id": page },
            "timestamp": self.now().timestamp_millis(),
        });
        item[key] = value;
        item
    }

    async fn post_item(
        &self,
        page: &str,
        item: Value,
        mid: Option<String>,
    ) -> anyhow::Result<Posted> {
        let object = {
            let st = self.lock();
            let p = st
                .pages
                .get(page)
                .with_context(|| format!("no sandbox Messenger page {page:?}"))?;
            if p.config.instagram {
                "instagram"
            } else {
                "page"
            }
        };
        let body = json!({
            "object": object,
            "entry": [{ "id": page, "time": self.now().timestamp_millis(), "messaging": [item] }],
        });
        let mut posted = self.post(page, &body).await?;
        posted.mid = mid;
        Ok(posted)
    }

    fn webhook_target(&self, page: &str) -> anyhow::Result<(String, String)> {
        let st = self.lock();
        let p = st
            .pages
            .get(page)
            .with_context(|| format!("no sandbox Messenger page {page:?}"))?;
        let url = p
            .config
            .webhook_url
            .clone()
            .context("the sandbox Messenger page has no webhook_url")?;
        Ok((url, p.config.app_secret.clone()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_ascii_is_escaped_lowercase_and_slashes_are_escaped() {
        let body = meta_json(&json!({ "t": "頭痛😢 https://a/b" }));
        let text = String::from_utf8(body.clone()).unwrap_or_default();
        assert_eq!(text, r#"{"t":"\u982d\u75db\ud83d\ude22 https:\/\/a\/b"}"#);
        let back: Value = serde_json::from_slice(&body).unwrap_or_default();
        assert_eq!(back["t"], "頭痛😢 https://a/b");
    }
}
