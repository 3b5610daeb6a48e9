//! Messenger's kit: the webhook examples of Meta's Messenger and Instagram references and the
//! fbmessenger-api samples, both signature headers as Meta sends them (the Messenger emulator's
//! code), and the emulator with its faults on `/{page id}/messages`. Meta publishes no signed
//! Messenger delivery, so there are no vectors.
use std::sync::Arc;
use std::time::Duration;

use chrono::TimeZone as _;
use http::{HeaderMap, HeaderValue};
use serde_json::{json, Value};
use tsunagu_channels::ChannelKind;
use tsunagu_core::{Code, FakeClock};
use tsunagu_sandbox::messenger::{
    self as emulator, MessengerSandbox, MessengerUser, PageConfig, RateLimitAnswer,
};

use super::fixtures;
use super::hooks::Hooks;
use super::kit::{Control, Emulator, Fault, Kit, Picture, Posted, Vector};

pub struct MessengerKit;

const URL: &str = "https://clinic.example/webhooks/messenger/c1";
const SECRET: &str = "messenger-app-secret";
const TOKEN: &str = "messenger-page-token";
const PAGE: &str = "104508092372571";
const PSID: &str = "6543210987654321";
const MESSAGES: &str = "/messages";

fn header(headers: &mut HeaderMap, name: &'static str, value: &str) {
    headers.insert(name, HeaderValue::from_str(value).unwrap());
}

#[async_trait::async_trait]
impl Kit for MessengerKit {
    fn kind(&self) -> ChannelKind {
        ChannelKind::Messenger
    }

    fn credentials(&self, secret: &str) -> Value {
        json!({"app_secret": secret, "verify_token": "verify", "page_tokens": {PAGE: TOKEN}})
    }

    fn vectors(&self) -> Vec<Vector> {
        Vec::new()
    }

    /// Meta's documented webhook examples (`meta-docs/`) and fbmessenger-api's request samples.
    fn samples(&self) -> Vec<Posted> {
        let hs = fixtures::json_files("messenger/fbmessenger-api-hs");
        fixtures::json_files("messenger/meta-docs")
            .into_iter()
            .chain(
                hs.into_iter()
                    .filter(|f| f.contains("/ws") && f.ends_with("Request.json")),
            )
            .map(|f| Posted::unsigned(f.clone(), URL, fixtures::read(&f)))
            .collect()
    }

    /// Meta sends `X-Hub-Signature-256` and the legacy `X-Hub-Signature` together.
    fn sign(&self, secret: &str, posted: &Posted) -> HeaderMap {
        let mut headers = HeaderMap::new();
        let sha256 = emulator::sign_sha256(secret, &posted.body);
        header(&mut headers, "x-hub-signature-256", &sha256);
        let sha1 = emulator::sign_sha1(secret, &posted.body);
        header(&mut headers, "x-hub-signature", &sha1);
        headers
    }

    fn forgeries(&self, secret: &str, signed: &Posted) -> Vec<(&'static str, Posted)> {
        let mut legacy = HeaderMap::new();
        let sha1 = emulator::sign_sha1(secret, &signed.body);
        header(&mut legacy, "x-hub-signature", &sha1);
        vec![("only the legacy SHA-1 header", signed.with_headers(legacy))]
    }

    /// The person blocked the page: Meta answers 551 "This person isn't available right now".
    fn refusal(&self) -> Code {
        Code::RecipientUnavailable
    }

    async fn start(&self, fault: Fault) -> Emulator {
        let at = chrono::Utc.with_ymd_and_hms(2025, 4, 1, 9, 0, 0).unwrap();
        let sb = MessengerSandbox::with_clock(Arc::new(FakeClock::new(at)));
        let hooks = Hooks::start().await;
        sb.add_page(PageConfig {
            page_id: PAGE.into(),
            name: "さくら内科".into(),
            access_token: TOKEN.into(),
            app_secret: SECRET.into(),
            webhook_url: Some(hooks.url("/webhooks/messenger/c1")),
            instagram: false,
        });
        let patient = MessengerUser {
            psid: PSID.into(),
            first_name: "太郎".into(),
            last_name: "田中".into(),
            profile_pic: None,
        };
        sb.add_user(PAGE, patient);
        let addr = sb.spawn("127.0.0.1:0").await.unwrap();
        // The patient writes first: the standard messaging window is open.
        let posted = sb.user_text(PAGE, PSID, "予約できますか").await.unwrap();
        assert_eq!(posted.status, 200);
        match fault {
            Fault::None => {}
            Fault::Throttled => sb.set_rate_limit(1, RateLimitAnswer::Code613),
            Fault::RetryAfter(secs) => sb.fail_next_with_retry_after(MESSAGES, 429, secs, 1),
            Fault::LostAnswer => sb.fail_next_after_accept(MESSAGES, 1),
            Fault::Silent => sb.delay_next_after_accept(MESSAGES, Duration::from_secs(60), 1),
            Fault::Refused => sb.block_user(PAGE, PSID),
        }
        Emulator {
            stored: self.credentials(SECRET),
            api_base_url: format!("http://{addr}/v23.0"),
            api_data_base_url: None,
            default_via: Some(PAGE.to_owned()),
            to: PSID.to_owned(),
            now_ms: at.timestamp_millis(),
            control: Box::new(Messenger { sb, hooks }),
        }
    }
}

struct Messenger {
    sb: MessengerSandbox,
    hooks: Hooks,
}

#[async_trait::async_trait]
impl Control for Messenger {
    fn delivered(&self) -> Vec<Option<String>> {
        let chat = self.sb.chat(PAGE, PSID);
        let ours = chat.into_iter().filter(|e| e.from == "page");
        ours.map(|e| Some(e.mid)).collect()
    }

    async fn patient_sends_picture(&self) -> Picture {
        let posted = self.sb.user_image(PAGE, PSID).await.unwrap();
        assert_eq!(posted.status, 200);
        Picture {
            posted: self.hooks.last(),
            bytes: None,
        }
    }
}
