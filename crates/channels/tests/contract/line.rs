//! LINE's kit: the SDKs' signature vectors and webhook samples, `x-line-signature` as the LINE
//! emulator signs, and the emulator with its faults on `/v2/bot/message/push`.
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use chrono::TimeZone as _;
use http::{HeaderMap, HeaderValue};
use serde_json::{json, Value};
use tsunagu_channels::ChannelKind;
use tsunagu_core::{Code, FakeClock};
use tsunagu_sandbox::line::{self as emulator, ChannelConfig, LineSandbox, UserProfile};

use super::fixtures;
use super::hooks::Hooks;
use super::kit::{Control, Emulator, Fault, Kit, Picture, Posted, Vector};

pub struct LineKit;

const URL: &str = "https://clinic.example/webhooks/line/c1";
const SECRET: &str = "line-channel-secret";
const TOKEN: &str = "line-channel-access-token";
const BOT: &str = "Ub0b00000000000000000000000000001";
const USER: &str = "U1234567890abcdef1234567890abcdef";
/// Not a LINE user id: LINE refuses a push to it with 400.
const NOT_A_USER: &str = "U-not-a-line-user-id";
const PUSH: &str = "/v2/bot/message/push";

fn signature(headers: &mut HeaderMap, value: &str) {
    headers.insert("x-line-signature", HeaderValue::from_str(value).unwrap());
}

#[async_trait::async_trait]
impl Kit for LineKit {
    fn kind(&self) -> ChannelKind {
        ChannelKind::Line
    }

    fn credentials(&self, secret: &str) -> Value {
        json!({"channel_secret": secret, "channel_access_token": TOKEN})
    }

    /// line-bot-sdk python, java and nodejs signature tests (`fixtures/line/signature/`).
    fn vectors(&self) -> Vec<Vector> {
        let all = fixtures::json("line/signature/vectors.json");
        let cases = all["cases"].as_array().unwrap();
        cases
            .iter()
            .map(|c| {
                let file = format!("line/signature/{}", c["body_file"].as_str().unwrap());
                let mut posted =
                    Posted::unsigned(c["name"].as_str().unwrap(), URL, fixtures::read(&file));
                signature(&mut posted.headers, c["x_line_signature"].as_str().unwrap());
                Vector {
                    secret: c["channel_secret"].as_str().unwrap().to_owned(),
                    posted,
                    valid: c["expect_valid"].as_bool().unwrap(),
                }
            })
            .collect()
    }

    /// Every webhook body of the python, java and go SDKs' tests (the flex samples are message
    /// contents, not webhooks).
    fn samples(&self) -> Vec<Posted> {
        fixtures::json_files("line/sdk-samples")
            .into_iter()
            .filter(|f| !f.contains("/flex/"))
            .map(|f| Posted::unsigned(f.clone(), URL, fixtures::read(&f)))
            .collect()
    }

    fn sign(&self, secret: &str, posted: &Posted) -> HeaderMap {
        let mut headers = HeaderMap::new();
        signature(&mut headers, &emulator::sign(secret, &posted.body));
        headers
    }

    fn forgeries(&self, secret: &str, signed: &Posted) -> Vec<(&'static str, Posted)> {
        // The right HMAC in hex instead of LINE's base64.
        let b64 = emulator::sign(secret, &signed.body);
        let raw = base64::engine::general_purpose::STANDARD
            .decode(b64)
            .unwrap();
        let mut headers = HeaderMap::new();
        signature(&mut headers, &hex::encode(raw));
        vec![("the signature hex-encoded", signed.with_headers(headers))]
    }

    fn refusal(&self) -> Code {
        Code::RejectedByProvider
    }

    async fn start(&self, fault: Fault) -> Emulator {
        let at = chrono::Utc.with_ymd_and_hms(2025, 4, 1, 9, 0, 0).unwrap();
        let sb = LineSandbox::with_clock(Arc::new(FakeClock::new(at)));
        let hooks = Hooks::start().await;
        sb.add_channel(ChannelConfig {
            channel_secret: SECRET.into(),
            access_token: TOKEN.into(),
            bot_user_id: BOT.into(),
            webhook_url: Some(hooks.url("/webhooks/line/c1")),
            quota: None,
        });
        sb.add_user(
            TOKEN,
            UserProfile {
                user_id: USER.into(),
                display_name: "田中 太郎".into(),
                ..Default::default()
            },
        );
        let base = format!("http://{}", sb.spawn("127.0.0.1:0").await.unwrap());
        let mut to = USER;
        match fault {
            Fault::None => {}
            Fault::Throttled => sb.set_rate_limit(PUSH, 1),
            Fault::RetryAfter(secs) => sb.fail_next_with_retry_after(PUSH, 429, secs, 1),
            Fault::LostAnswer => sb.fail_next_after_accept(PUSH, 1),
            Fault::Silent => sb.delay_next_after_accept(PUSH, Duration::from_secs(60), 1),
            Fault::Refused => to = NOT_A_USER,
        }
        Emulator {
            stored: self.credentials(SECRET),
            api_base_url: base.clone(),
            api_data_base_url: Some(base),
            default_via: None,
            to: to.to_owned(),
            now_ms: at.timestamp_millis(),
            control: Box::new(Line { sb, hooks, to }),
        }
    }
}

struct Line {
    sb: LineSandbox,
    hooks: Hooks,
    to: &'static str,
}

#[async_trait::async_trait]
impl Control for Line {
    /// The LINE emulator keeps the message objects, not their ids.
    fn delivered(&self) -> Vec<Option<String>> {
        self.sb.delivered_to(self.to).iter().map(|_| None).collect()
    }

    async fn patient_sends_picture(&self) -> Picture {
        let event = self.sb.user_image(USER);
        let status = self.sb.send_event(TOKEN, event).await.unwrap();
        assert_eq!(status, 200);
        Picture {
            posted: self.hooks.last(),
            bytes: None,
        }
    }
}
