//! Twilio's kit: the request-validator vectors of twilio-python and twilio-node, messaging
//! webhooks with the parameters Twilio documents, `X-Twilio-Signature` as the Twilio emulator
//! signs (over the URL it posted to), and the emulator with its faults on `Messages.json`.
use std::sync::Arc;
use std::time::Duration;

use chrono::TimeZone as _;
use http::{HeaderMap, HeaderValue};
use serde_json::{json, Value};
use tsunagu_channels::ChannelKind;
use tsunagu_core::{Code, FakeClock};
use tsunagu_sandbox::twilio::{self as emulator, NumberConfig, TwilioSandbox};

use super::fixtures;
use super::hooks::Hooks;
use super::kit::{Control, Emulator, Fault, Hook, Kit, Picture, Posted, Vector};

pub struct SmsKit;

const URL: &str = "https://clinic.example/webhooks/sms/c1";
const STATUS_URL: &str = "https://clinic.example/webhooks/sms/c1/status?message=m1";
const ACCOUNT: &str = "AC0123456789abcdef0123456789abcdef";
const TOKEN: &str = "twilio-auth-token";
const CLINIC: &str = "+815012345678";
const PATIENT: &str = "+819012345678";
/// Twilio's test number that answers 21610 "Attempt to send to unsubscribed recipient".
const UNSUBSCRIBED: &str = "+15005550004";
const MESSAGES: &str = "/Messages.json";
/// twilio-python drops an exact duplicate field before hashing; we hash the form as received, so
/// this vector's form (with one unsigned extra `Digits`) is refused (see `sms_signature.rs`).
const DEDUPLICATING_VECTOR: &str = "duplicate_params_sorted_deduplicated";

fn form(pairs: &[(&str, &str)]) -> Vec<u8> {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    s.extend_pairs(pairs);
    s.finish().into_bytes()
}

fn signature(headers: &mut HeaderMap, value: &str) {
    headers.insert("x-twilio-signature", HeaderValue::from_str(value).unwrap());
}

#[async_trait::async_trait]
impl Kit for SmsKit {
    fn kind(&self) -> ChannelKind {
        ChannelKind::Sms
    }

    fn credentials(&self, secret: &str) -> Value {
        json!({"account_sid": ACCOUNT, "auth_token": secret})
    }

    /// Form posts only: the JSON-body vectors (`bodySHA256`) are a request Twilio never sends to
    /// a messaging webhook.
    fn vectors(&self) -> Vec<Vector> {
        let files = [
            "twilio/request_validator_vectors.twilio-node.json",
            "twilio/request_validator_vectors.twilio-python.json",
        ];
        let mut out = Vec::new();
        for file in files {
            let all = fixtures::json(file);
            for c in all["cases"].as_array().unwrap() {
                if c["raw_body"].is_string() {
                    continue;
                }
                let name = c["name"].as_str().unwrap();
                let pairs: Vec<(&str, &str)> = c["form_params"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|p| (p[0].as_str().unwrap(), p[1].as_str().unwrap()))
                    .collect();
                let url = c["request_url"].as_str().unwrap();
                let mut posted = Posted::unsigned(format!("{file}:{name}"), url, form(&pairs));
                signature(
                    &mut posted.headers,
                    c["x_twilio_signature"].as_str().unwrap(),
                );
                out.push(Vector {
                    secret: c["auth_token"].as_str().unwrap().to_owned(),
                    posted,
                    valid: c["expect_valid"].as_bool().unwrap() && name != DEDUPLICATING_VECTOR,
                });
            }
        }
        out
    }

    /// Twilio doc: Messaging › "Twilio's request to your application" (an SMS, an MMS, an
    /// Advanced Opt-Out keyword) and "Outbound message status in status callbacks". Twilio
    /// publishes these as parameter lists, not files, so they are written here.
    fn samples(&self) -> Vec<Posted> {
        let common = |sid: &'static str, body: &'static str| {
            vec![
                ("ToCountry", "JP"),
                ("ToState", ""),
                ("SmsMessageSid", sid),
                ("NumMedia", "0"),
                ("ToCity", ""),
                ("FromZip", ""),
                ("SmsSid", sid),
                ("FromState", ""),
                ("SmsStatus", "received"),
                ("FromCity", ""),
                ("Body", body),
                ("FromCountry", "JP"),
                ("To", CLINIC),
                ("ToZip", ""),
                ("NumSegments", "1"),
                ("MessageSid", sid),
                ("AccountSid", ACCOUNT),
                ("From", PATIENT),
                ("ApiVersion", "2010-04-01"),
            ]
        };
        let sms = common(
            "SM1f0e3a0a9b3c4d5e6f708192a3b4c5d6",
            "明日の予約を変更したいです",
        );
        let mut mms = common("MM2a1b3c4d5e6f708192a3b4c5d6e7f809", "");
        mms.retain(|(k, _)| *k != "NumMedia");
        mms.extend([
            ("NumMedia", "2"),
            ("MediaContentType0", "image/jpeg"),
            ("MediaUrl0", "https://api.twilio.com/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Messages/MM2a1b3c4d5e6f708192a3b4c5d6e7f809/Media/ME1"),
            ("MediaContentType1", "image/png"),
            ("MediaUrl1", "https://api.twilio.com/2010-04-01/Accounts/AC0123456789abcdef0123456789abcdef/Messages/MM2a1b3c4d5e6f708192a3b4c5d6e7f809/Media/ME2"),
        ]);
        let mut stop = common("SM3b2c4d5e6f708192a3b4c5d6e7f8091a", "STOP");
        stop.push(("OptOutType", "STOP"));
        let status = |sid: &'static str, status: &'static str, error: Option<&'static str>| {
            let mut f = vec![
                ("SmsSid", sid),
                ("SmsStatus", status),
                ("MessageStatus", status),
                ("To", PATIENT),
                ("MessageSid", sid),
                ("AccountSid", ACCOUNT),
                ("From", CLINIC),
                ("ApiVersion", "2010-04-01"),
            ];
            f.extend(error.map(|e| ("ErrorCode", e)));
            f
        };
        let callback = |name: &str, pairs: Vec<(&str, &str)>| Posted {
            hook: Hook::Status {
                message: Some("m1".into()),
            },
            ..Posted::unsigned(name, STATUS_URL, form(&pairs))
        };
        vec![
            Posted::unsigned("an incoming SMS", URL, form(&sms)),
            Posted::unsigned("an incoming MMS with two pictures", URL, form(&mms)),
            Posted::unsigned("STOP (Advanced Opt-Out)", URL, form(&stop)),
            callback(
                "a delivered status callback",
                status("SM4c3d5e6f708192a3b4c5d6e7f8091a2b", "delivered", None),
            ),
            callback(
                "an undelivered status callback",
                status(
                    "SM4c3d5e6f708192a3b4c5d6e7f8091a2b",
                    "undelivered",
                    Some("30003"),
                ),
            ),
        ]
    }

    fn sign(&self, secret: &str, posted: &Posted) -> HeaderMap {
        let fields: Vec<(String, String)> = url::form_urlencoded::parse(&posted.body)
            .into_owned()
            .collect();
        let mut headers = HeaderMap::new();
        signature(&mut headers, &emulator::sign(secret, &posted.url, &fields));
        headers
    }

    /// The signature covers the URL and every field: the same delivery posted to another path,
    /// with another query (a status callback naming another message) or with a field added, is
    /// not the one Twilio signed.
    fn forgeries(&self, _secret: &str, signed: &Posted) -> Vec<(&'static str, Posted)> {
        let url = url::Url::parse(&signed.url).unwrap();
        let mut moved = url.clone();
        moved.set_path(&format!("{}-other", url.path()));
        let mut queried = url;
        queried.set_query(Some("message=another"));
        let mut extra = signed.body.clone();
        extra.extend_from_slice(b"&Body=injected");
        vec![
            (
                "the signature for another URL",
                signed.at(moved.to_string()),
            ),
            (
                "the signature for another query",
                signed.at(queried.to_string()),
            ),
            ("a field added to the form", signed.with_body(extra)),
        ]
    }

    fn refusal(&self) -> Code {
        Code::RecipientOptedOut
    }

    async fn start(&self, fault: Fault) -> Emulator {
        let at = chrono::Utc.with_ymd_and_hms(2025, 4, 1, 9, 0, 0).unwrap();
        let sb = TwilioSandbox::with_clock(Arc::new(FakeClock::new(at)));
        let hooks = Hooks::start().await;
        sb.add_number(NumberConfig {
            account_sid: ACCOUNT.into(),
            auth_token: TOKEN.into(),
            phone_number: CLINIC.into(),
            sms_url: Some(hooks.url("/webhooks/sms/c1")),
            messaging_service_sid: None,
        });
        let base = format!("http://{}", sb.spawn("127.0.0.1:0").await.unwrap());
        let mut to = PATIENT;
        match fault {
            Fault::None => {}
            // One segment a second and no queue: the second send at once is refused (20429).
            Fault::Throttled => sb.set_rate_limit(CLINIC, 1, 1),
            Fault::RetryAfter(secs) => sb.fail_next_with_retry_after(MESSAGES, 429, secs, 1),
            Fault::LostAnswer => sb.fail_next_after_accept(MESSAGES, 1),
            Fault::Silent => sb.delay_next_after_accept(MESSAGES, Duration::from_secs(60), 1),
            Fault::Refused => to = UNSUBSCRIBED,
        }
        Emulator {
            stored: self.credentials(TOKEN),
            api_base_url: base,
            api_data_base_url: None,
            default_via: Some(CLINIC.to_owned()),
            to: to.to_owned(),
            now_ms: at.timestamp_millis(),
            control: Box::new(Twilio { sb, hooks, to }),
        }
    }
}

struct Twilio {
    sb: TwilioSandbox,
    hooks: Hooks,
    to: &'static str,
}

#[async_trait::async_trait]
impl Control for Twilio {
    fn delivered(&self) -> Vec<Option<String>> {
        let sent = self.sb.sent_to(self.to);
        sent.into_iter().map(|m| Some(m.sid)).collect()
    }

    async fn patient_sends_picture(&self) -> Picture {
        let png = tsunagu_sandbox::png::png(16, [242, 47, 70]);
        let media = vec![(png.clone(), "image/png".to_owned())];
        let posted = self.sb.user_mms(CLINIC, PATIENT, "", media).await.unwrap();
        assert_eq!(posted.status, 200);
        Picture {
            posted: self.hooks.last(),
            bytes: Some(png),
        }
    }
}
