//! The webhook driver: builds `whatsapp_business_account` deliveries like Meta's, escapes them the
//! way Meta serialises (non-ASCII as `\uXXXX`, `/` as `\/`), signs those exact bytes with
//! `X-Hub-Signature-256`, and plays the user's side (24-hour window, chat log, media).
use std::time::Duration;

use anyhow::Context as _;
use hmac::{Hmac, Mac};
use serde::Serialize;
use serde_json::{json, Value};
use sha2::Sha256;

use super::WhatsAppSandbox;

/// What the driver posted and what tsunagu answered.
#[derive(Clone, Debug)]
pub struct Posted {
    /// tsunagu's HTTP status.
    pub status: u16,
    pub phone_number_id: String,
    /// The user message's wamid (none for statuses and raw posts).
    pub wamid: Option<String>,
    /// The exact bytes posted (and signed).
    pub body: Vec<u8>,
}

/// Meta doc: Graph API › Webhooks › "Validate payloads": `sha256=` + lowercase hex HMAC-SHA256.
pub fn sign(app_secret: &str, body: &[u8]) -> String {
    match Hmac::<Sha256>::new_from_slice(app_secret.as_bytes()) {
        Ok(mut mac) => {
            mac.update(body);
            let hex: String = mac
                .finalize()
                .into_bytes()
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect();
            format!("sha256={hex}")
        }
        Err(_) => String::new(), // HMAC takes keys of any length
    }
}

/// Meta sends JSON escaped like PHP's `json_encode`: non-ASCII as `\uXXXX` (surrogate pairs above
/// U+FFFF) and `/` as `\/`. Both can only occur inside strings, so escaping them is safe.
pub fn escape_non_ascii(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        if c == '/' {
            out.push_str("\\/");
        } else if c.is_ascii() {
            out.push(c);
        } else {
            let mut units = [0u16; 2];
            for u in c.encode_utf16(&mut units) {
                out.push_str(&format!("\\u{u:04x}"));
            }
        }
    }
    out
}

#[derive(Serialize)]
struct Envelope {
    object: &'static str,
    entry: Vec<Entry>,
}

#[derive(Serialize)]
struct Entry {
    id: String,
    changes: Vec<Change>,
}

#[derive(Serialize)]
struct Change {
    value: ChangeValue,
    field: &'static str,
}

#[derive(Serialize)]
struct ChangeValue {
    messaging_product: &'static str,
    metadata: Metadata,
    #[serde(skip_serializing_if = "Option::is_none")]
    contacts: Option<Vec<Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    messages: Option<Vec<Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    statuses: Option<Vec<Value>>,
}

#[derive(Serialize)]
struct Metadata {
    display_phone_number: String,
    phone_number_id: String,
}

impl WhatsAppSandbox {
    /// Meta doc: Webhooks › messages › "statuses": sent | delivered | read | failed for a
    /// business message; `errors` (Meta's `[{code,title,message,error_data}]`) for failed.
    pub async fn send_status(
        &self,
        wamid: &str,
        status: &str,
        errors: Option<Value>,
    ) -> anyhow::Result<Posted> {
        let now = self.now();
        let (phone, wa_id, callback_data) = {
            let mut st = self.lock();
            let (phone, wa_id) = st
                .sent
                .get(wamid)
                .cloned()
                .with_context(|| format!("no business message {wamid}"))?;
            let key = (phone.clone(), wa_id.clone());
            for e in st
                .chats
                .get_mut(&key)
                .into_iter()
                .flatten()
                .filter(|e| e.wamid == wamid)
            {
                e.status = Some(status.to_owned());
            }
            (phone, wa_id, st.callback_data.get(wamid).cloned())
        };
        let mut s = json!({ "id": wamid, "status": status, "timestamp": now.timestamp().to_string(), "recipient_id": wa_id });
        if matches!(status, "sent" | "delivered") {
            s["conversation"] = json!({ "id": uuid::Uuid::new_v4().simple().to_string(), "origin": { "type": "service" } });
            s["pricing"] = json!({ "billable": false, "pricing_model": "PMP", "category": "service", "type": "free_customer_service" });
        }
        if let Some(data) = callback_data {
            s["biz_opaque_callback_data"] = json!(data);
        }
        if let Some(errors) = errors {
            s["errors"] = errors;
        }
        let body = self.envelope(&phone, None, None, Some(vec![s]))?;
        self.post(&phone, body).await
    }

    /// Posts `body` exactly as given, signed with the number's app secret.
    pub async fn post(&self, phone: &str, body: impl Into<Vec<u8>>) -> anyhow::Result<Posted> {
        let body = body.into();
        let (secret, url) = self.webhook_target(phone)?;
        let signature = sign(&secret, &body);
        self.post_signed(phone, &url, body, &signature).await
    }

    /// Posts `body` with a chosen `X-Hub-Signature-256` value (tests of refused signatures).
    pub async fn post_with_signature(
        &self,
        phone: &str,
        body: impl Into<Vec<u8>>,
        signature: &str,
    ) -> anyhow::Result<Posted> {
        let (_, url) = self.webhook_target(phone)?;
        self.post_signed(phone, &url, body.into(), signature).await
    }

    /// Meta retries a delivery it thinks failed with the same bytes.
    pub async fn redeliver(&self, posted: &Posted) -> anyhow::Result<u16> {
        let again = self
            .post(&posted.phone_number_id, posted.body.clone())
            .await?;
        Ok(again.status)
    }

    /// Meta doc: Webhooks › "Verification requests": GET with hub.mode, hub.challenge and
    /// hub.verify_token; a correct endpoint answers 200 with the challenge as the body.
    pub async fn verify_webhook(
        &self,
        url: &str,
        verify_token: &str,
    ) -> anyhow::Result<(u16, String)> {
        let challenge = (uuid::Uuid::new_v4().as_u128() % 10_000_000_000).to_string();
        self.verify_webhook_with_challenge(url, verify_token, &challenge)
            .await
    }

    pub async fn verify_webhook_with_challenge(
        &self,
        url: &str,
        verify_token: &str,
        challenge: &str,
    ) -> anyhow::Result<(u16, String)> {
        let resp = self
            .inner
            .http
            .get(url)
            .query(&[
                ("hub.mode", "subscribe"),
                ("hub.challenge", challenge),
                ("hub.verify_token", verify_token),
            ])
            .send()
            .await
            .with_context(|| format!("verifying the webhook {url}"))?;
        let status = resp.status().as_u16();
        Ok((status, resp.text().await.unwrap_or_default()))
    }

    /// After an accepted send, sent → delivered → read `step` apart (demo only; real time).
    pub(crate) fn schedule_auto_status(&self, wamid: &str) {
        let Some(step) = self.lock().auto_status else {
            return;
        };
        let sb = self.clone();
        let wamid = wamid.to_owned();
        tokio::spawn(async move {
            for status in ["sent", "delivered", "read"] {
                tokio::time::sleep(step.max(Duration::from_millis(10))).await;
                if let Err(e) = sb.send_status(&wamid, status, None).await {
                    tracing::warn!(error = %e, "sandbox auto status not delivered");
                }
            }
        });
    }

    pub(crate) fn envelope(
        &self,
        phone: &str,
        contacts: Option<Vec<Value>>,
        messages: Option<Vec<Value>>,
        statuses: Option<Vec<Value>>,
    ) -> anyhow::Result<Vec<u8>> {
        let (waba, display) = {
            let st = self.lock();
            let n = st
                .numbers
                .get(phone)
                .with_context(|| format!("no sandbox phone number {phone}"))?;
            (n.waba_id.clone(), n.display_phone_number.clone())
        };
        let value = ChangeValue {
            messaging_product: "whatsapp",
            metadata: Metadata {
                display_phone_number: display,
                phone_number_id: phone.to_owned(),
            },
            contacts,
            messages,
            statuses,
        };
        let envelope = Envelope {
            object: "whatsapp_business_account",
            entry: vec![Entry {
                id: waba,
                changes: vec![Change {
                    value,
                    field: "messages",
                }],
            }],
        };
        let text = serde_json::to_string(&envelope).context("serialising the webhook body")?;
        Ok(escape_non_ascii(&text).into_bytes())
    }

    fn webhook_target(&self, phone: &str) -> anyhow::Result<(String, String)> {
        let st = self.lock();
        let n = st
            .numbers
            .get(phone)
            .with_context(|| format!("no sandbox phone number {phone}"))?;
        let url = n
            .webhook_url
            .clone()
            .context("the sandbox phone number has no webhook_url")?;
        Ok((n.app_secret.clone(), url))
    }

    async fn post_signed(
        &self,
        phone: &str,
        url: &str,
        body: Vec<u8>,
        signature: &str,
    ) -> anyhow::Result<Posted> {
        let resp = self
            .inner
            .http
            .post(url)
            .header("content-type", "application/json")
            .header("user-agent", "facebookexternalua")
            .header("x-hub-signature-256", signature)
            .body(body.clone())
            .send()
            .await
            .with_context(|| format!("posting the WhatsApp webhook to {url}"))?;
        Ok(Posted {
            status: resp.status().as_u16(),
            phone_number_id: phone.to_owned(),
            wamid: None,
            body,
        })
    }
}
