//! The webhook driver: patients' messages and status callbacks, posted as Twilio posts them
//! (form-encoded, `X-Twilio-Signature` over the URL exactly as configured plus the sorted params),
//! and Twilio's Advanced Opt-Out handling of STOP/START/HELP on the way in.
use anyhow::Context as _;
use base64::{engine::general_purpose::STANDARD as BASE64, Engine as _};
use bytes::Bytes;
use hmac::{Hmac, Mac};
use sha1::Sha1;

use super::state::{Media, SmsMessage};
use super::{ids, send::AUTO_STATUS_STEP, TwilioSandbox};

const API_VERSION: &str = "2010-04-01";
const STOP_WORDS: [&str; 8] = [
    "STOP",
    "STOPALL",
    "UNSUBSCRIBE",
    "CANCEL",
    "END",
    "QUIT",
    "OPTOUT",
    "REVOKE",
];
const START_WORDS: [&str; 3] = ["START", "UNSTOP", "YES"];
const HELP_WORDS: [&str; 2] = ["HELP", "INFO"];
/// Twilio's default auto-answers to the keywords.
const STOP_REPLY: &str = "You have successfully been unsubscribed. You will not receive any more messages from this number. Reply START to resubscribe.";
const START_REPLY: &str = "You have successfully been re-subscribed to messages from this number. Reply HELP for help. Reply STOP to unsubscribe. Msg&Data Rates May Apply.";
const HELP_REPLY: &str = "Reply STOP to unsubscribe. Msg&Data Rates May Apply.";

/// Twilio doc: Security › "Validating requests" — Base64(HMAC-SHA1(auth token, URL followed by
/// every POST parameter's name and value, sorted by name)). The sandbox's own implementation.
pub fn sign(auth_token: &str, url: &str, params: &[(String, String)]) -> String {
    let mut sorted: Vec<&(String, String)> = params.iter().collect();
    sorted.sort();
    let mut data = url.to_owned();
    for (name, value) in sorted {
        data.push_str(name);
        data.push_str(value);
    }
    match Hmac::<Sha1>::new_from_slice(auth_token.as_bytes()) {
        Ok(mut mac) => {
            mac.update(data.as_bytes());
            BASE64.encode(mac.finalize().into_bytes())
        }
        Err(_) => String::new(), // HMAC takes keys of any length
    }
}

/// One webhook post: what was sent where, and tsunagu's answer.
#[derive(Clone, Debug)]
pub struct Delivery {
    /// The patient's message (`SM…`/`MM…`), or the message a status callback is about.
    pub message_sid: String,
    pub url: String,
    pub params: Vec<(String, String)>,
    /// `I-Twilio-Idempotency-Token`: the same on a redelivery.
    pub idempotency_token: String,
    /// The HTTP status tsunagu answered.
    pub status: u16,
    /// The answer's `Content-Type` (TwiML is `text/xml` or `application/xml`).
    pub content_type: Option<String>,
    /// The answer's body (TwiML for a message webhook).
    pub answer: String,
}

impl TwilioSandbox {
    /// A patient texts `number` (see [`TwilioSandbox::user_mms`]).
    pub async fn user_sms(&self, number: &str, from: &str, body: &str) -> anyhow::Result<Delivery> {
        self.user_mms(number, from, body, Vec::new()).await
    }

    /// Twilio doc: Messaging › Webhooks › "Twilio's request to your application". The patient
    /// `from` sends `body` with `media` (bytes, MIME type) to `number`; the media are hosted by the
    /// sandbox at absolute URLs under the public base. Keywords act as Advanced Opt-Out does: the
    /// opt-out state changes, Twilio answers the patient, and the message is still forwarded.
    pub async fn user_mms(
        &self,
        number: &str,
        from: &str,
        body: &str,
        media: Vec<(Vec<u8>, String)>,
    ) -> anyhow::Result<Delivery> {
        let now = self.now();
        let (url, params) = {
            let mut st = self.lock();
            let config = st
                .numbers
                .get(number)
                .cloned()
                .with_context(|| format!("no sandbox Twilio number {number}"))?;
            let url = config
                .sms_url
                .clone()
                .context("the sandbox number has no sms_url")?;
            let sid = ids::sid(if media.is_empty() { "SM" } else { "MM" });
            let base = st
                .public_url
                .clone()
                .unwrap_or_else(|| "https://api.twilio.com".into());
            let mut params = vec![
                kv("MessageSid", sid.clone()),
                kv("SmsSid", sid.clone()),
                kv("SmsMessageSid", sid.clone()),
                kv("AccountSid", config.account_sid.clone()),
                kv("From", from.to_owned()),
                kv("To", number.to_owned()),
                kv("Body", body.to_owned()),
                kv("NumMedia", media.len().to_string()),
                kv("NumSegments", ids::num_segments(body).to_string()),
                kv("SmsStatus", "received".to_owned()),
                kv("ApiVersion", API_VERSION.to_owned()),
                kv("FromCountry", ids::country(from).to_owned()),
                kv("FromState", String::new()),
                kv("FromCity", String::new()),
                kv("FromZip", String::new()),
                kv("ToCountry", ids::country(number).to_owned()),
                kv("ToState", String::new()),
                kv("ToCity", String::new()),
                kv("ToZip", String::new()),
            ];
            if let Some(mg) = &config.messaging_service_sid {
                params.push(kv("MessagingServiceSid", mg.clone()));
            }
            let mut media_urls = Vec::new();
            for (n, (bytes, mime)) in media.into_iter().enumerate() {
                let me = ids::sid("ME");
                let media_url = format!(
                    "{base}/2010-04-01/Accounts/{}/Messages/{sid}/Media/{me}",
                    config.account_sid
                );
                params.push(kv(&format!("MediaUrl{n}"), media_url.clone()));
                params.push(kv(&format!("MediaContentType{n}"), mime.clone()));
                media_urls.push(media_url);
                st.media.insert(
                    me,
                    Media {
                        account_sid: config.account_sid.clone(),
                        message_sid: sid.clone(),
                        content_type: mime,
                        bytes: Bytes::from(bytes),
                        created: now,
                    },
                );
            }
            let mut message = SmsMessage {
                sid: sid.clone(),
                account_sid: config.account_sid.clone(),
                direction: "inbound",
                from: from.to_owned(),
                to: number.to_owned(),
                body: body.to_owned(),
                media_urls,
                status: "received".into(),
                error_code: None,
                messaging_service_sid: config.messaging_service_sid.clone(),
                num_segments: ids::num_segments(body),
                status_callback: None,
                date_created: now,
                date_updated: now,
                sender_pending: false,
            };
            let scope = st.opt_out_scope(number);
            let keyword = keyword(body);
            let reply = match keyword {
                Some("STOP") => {
                    st.opted_out.insert((scope, from.to_owned()));
                    STOP_REPLY
                }
                Some("START") => {
                    st.opted_out.remove(&(scope, from.to_owned()));
                    START_REPLY
                }
                Some(_) => HELP_REPLY,
                None => "",
            };
            if let Some(k) = keyword {
                params.push(kv("OptOutType", k));
            }
            st.messages.push(message.clone());
            if !reply.is_empty() {
                message.sid = ids::sid("SM");
                message.direction = "outbound-reply";
                (message.from, message.to) = (message.to, message.from);
                message.body = reply.to_owned();
                message.media_urls.clear();
                message.status = "delivered".into();
                message.num_segments = ids::num_segments(reply);
                st.messages.push(message);
            }
            (url, params)
        };
        let sid = field(&params, "MessageSid");
        self.deliver(number, sid, url, params, ids::sid("")).await
    }

    /// Posts `params` to `url` signed with `number`'s auth token (fixtures, odd forms).
    pub async fn post_form(
        &self,
        number: &str,
        url: &str,
        params: &[(String, String)],
    ) -> anyhow::Result<Delivery> {
        let sid = field(params, "MessageSid");
        self.deliver(number, sid, url.to_owned(), params.to_vec(), ids::sid(""))
            .await
    }

    /// Posts `params` to `url` with exactly `signature` (forged or missing-signature tests).
    pub async fn post_form_signed(
        &self,
        url: &str,
        params: &[(String, String)],
        signature: Option<&str>,
    ) -> anyhow::Result<u16> {
        Ok(self.post(url, params, signature, &ids::sid("")).await?.0)
    }

    /// The same post again, same params and idempotency token, freshly signed: what Twilio does
    /// when the first attempt timed out or failed to connect.
    pub async fn redeliver(&self, delivery: &Delivery) -> anyhow::Result<Delivery> {
        let number = {
            let st = self.lock();
            st.messages
                .iter()
                .find(|m| m.sid == delivery.message_sid)
                .map(|m| {
                    if m.direction == "inbound" {
                        m.to.clone()
                    } else {
                        m.from.clone()
                    }
                })
                .context("redelivering a webhook for a message the sandbox does not know")?
        };
        self.deliver(
            &number,
            delivery.message_sid.clone(),
            delivery.url.clone(),
            delivery.params.clone(),
            delivery.idempotency_token.clone(),
        )
        .await
    }

    /// Twilio doc: Messaging › "Outbound message status in status callbacks". Moves the message
    /// to `status` and, when its send carried `StatusCallback`, posts `MessageSid`,
    /// `MessageStatus`, `SmsStatus`, `ErrorCode`, `AccountSid`, `From`, `To`, `ApiVersion` there.
    pub async fn report_status(
        &self,
        sid: &str,
        status: &str,
        error_code: Option<u32>,
    ) -> anyhow::Result<Option<Delivery>> {
        let now = self.now();
        let (callback, message) = {
            let mut st = self.lock();
            let m = st
                .message_mut(sid)
                .with_context(|| format!("no sandbox message {sid}"))?;
            m.status = status.to_owned();
            m.error_code = error_code;
            m.date_updated = now;
            (m.status_callback.clone(), m.clone())
        };
        let Some(url) = callback else {
            return Ok(None);
        };
        let mut params = vec![
            kv("MessageSid", message.sid.clone()),
            kv("SmsSid", message.sid.clone()),
            kv("MessageStatus", status.to_owned()),
            kv("SmsStatus", status.to_owned()),
            kv("AccountSid", message.account_sid.clone()),
            kv("From", message.from.clone()),
            kv("To", message.to.clone()),
            kv("ApiVersion", API_VERSION.to_owned()),
        ];
        if let Some(c) = error_code {
            params.push(kv("ErrorCode", c.to_string()));
        }
        if let Some(mg) = &message.messaging_service_sid {
            params.push(kv("MessagingServiceSid", mg.clone()));
        }
        let d = self
            .deliver(&message.from, message.sid, url, params, ids::sid(""))
            .await?;
        Ok(Some(d))
    }

    /// After an accepted send: with `auto_status` on, queued → sent → delivered in the background.
    pub(crate) fn after_accept(&self, sid: &str) {
        if !self.lock().auto_status {
            return;
        }
        let sb = self.clone();
        let sid = sid.to_owned();
        tokio::spawn(async move {
            for status in ["queued", "sent", "delivered"] {
                tokio::time::sleep(AUTO_STATUS_STEP).await;
                if let Err(e) = sb.report_status(&sid, status, None).await {
                    tracing::warn!(error = %format!("{e:#}"), %sid, "sandbox status callback failed");
                    return;
                }
            }
        });
    }

    async fn deliver(
        &self,
        number: &str,
        message_sid: String,
        url: String,
        params: Vec<(String, String)>,
        token: String,
    ) -> anyhow::Result<Delivery> {
        let auth_token = {
            let st = self.lock();
            let n = st
                .numbers
                .get(number)
                .with_context(|| format!("no sandbox Twilio number {number}"))?;
            n.auth_token.clone()
        };
        let signature = sign(&auth_token, &url, &params);
        let (status, content_type, answer) =
            self.post(&url, &params, Some(&signature), &token).await?;
        Ok(Delivery {
            message_sid,
            url,
            params,
            idempotency_token: token,
            status,
            content_type,
            answer,
        })
    }

    async fn post(
        &self,
        url: &str,
        params: &[(String, String)],
        signature: Option<&str>,
        token: &str,
    ) -> anyhow::Result<(u16, Option<String>, String)> {
        let body = serde_urlencoded::to_string(params).context("encoding the webhook form")?;
        let mut req = self
            .inner
            .http
            .post(url)
            .header("content-type", "application/x-www-form-urlencoded")
            .header("user-agent", "TwilioProxy/1.1")
            .header("i-twilio-idempotency-token", token)
            .body(body);
        if let Some(s) = signature {
            req = req.header("x-twilio-signature", s);
        }
        let resp = req
            .send()
            .await
            .with_context(|| format!("posting the Twilio webhook to {url}"))?;
        let status = resp.status().as_u16();
        let content_type = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        // Twilio reads the answer (TwiML); an unreadable body is an empty answer, not an error.
        let answer = resp.text().await.unwrap_or_default();
        Ok((status, content_type, answer))
    }
}

fn kv(name: &str, value: impl Into<String>) -> (String, String) {
    (name.to_owned(), value.into())
}

fn field(params: &[(String, String)], name: &str) -> String {
    params
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
        .unwrap_or_default()
}

/// The keyword class of a whole message (trimmed, ASCII case-insensitive), as Twilio matches.
fn keyword(body: &str) -> Option<&'static str> {
    let word = body.trim();
    let hit = |list: &[&str]| list.iter().any(|k| k.eq_ignore_ascii_case(word));
    if hit(&STOP_WORDS) {
        Some("STOP")
    } else if hit(&START_WORDS) {
        Some("START")
    } else if hit(&HELP_WORDS) {
        Some("HELP")
    } else {
        None
    }
}
