//! WhatsApp's kit: pywa's real signed delivery, every pywa and Meta webhook example,
//! `X-Hub-Signature-256` as the WhatsApp emulator signs, and the emulator with its faults on
//! `/{phone number id}/messages`.
use std::sync::Arc;
use std::time::Duration;

use chrono::TimeZone as _;
use http::{HeaderMap, HeaderValue};
use serde_json::{json, Value};
use tsunagu_channels::ChannelKind;
use tsunagu_core::{Code, FakeClock};
use tsunagu_sandbox::whatsapp::{self as emulator, PhoneNumberConfig, WhatsAppSandbox};

use super::fixtures;
use super::hooks::Hooks;
use super::kit::{Control, Emulator, Fault, Kit, Picture, Posted, Vector};

pub struct WhatsAppKit;

const URL: &str = "https://clinic.example/webhooks/whatsapp/c1";
const SECRET: &str = "whatsapp-app-secret";
const TOKEN: &str = "whatsapp-access-token";
const PHONE: &str = "106540352242922";
const WA_ID: &str = "819012345678";
/// Has never written to the clinic: outside the 24-hour window, Meta refuses a text (131047).
const NEVER_WROTE: &str = "819087654321";
const MESSAGES: &str = "/messages";

fn signature(headers: &mut HeaderMap, value: &str) {
    headers.insert("x-hub-signature-256", HeaderValue::from_str(value).unwrap());
}

#[async_trait::async_trait]
impl Kit for WhatsAppKit {
    fn kind(&self) -> ChannelKind {
        ChannelKind::WhatsApp
    }

    fn credentials(&self, secret: &str) -> Value {
        json!({"app_secret": secret, "verify_token": "verify", "access_token": TOKEN})
    }

    /// A real Cloud API delivery with its signature, from pywa's tests.
    fn vectors(&self) -> Vec<Vector> {
        let all = fixtures::json("whatsapp/signature/vectors.json");
        let cases = all["cases"].as_array().unwrap();
        cases
            .iter()
            .map(|c| {
                let file = format!("whatsapp/signature/{}", c["body_file"].as_str().unwrap());
                let mut posted =
                    Posted::unsigned(c["name"].as_str().unwrap(), URL, fixtures::read(&file));
                signature(
                    &mut posted.headers,
                    c["x_hub_signature_256"].as_str().unwrap(),
                );
                Vector {
                    secret: c["app_secret"].as_str().unwrap().to_owned(),
                    posted,
                    valid: c["expect_valid"].as_bool().unwrap(),
                }
            })
            .collect()
    }

    /// Every case of pywa's update files (each maps a case name to a body), every webhook
    /// example of Meta's OpenAPI document, and the real signed delivery.
    fn samples(&self) -> Vec<Posted> {
        let mut out = Vec::new();
        for file in fixtures::json_files("whatsapp/pywa/updates") {
            let cases = fixtures::json(&file);
            for (case, body) in cases.as_object().unwrap() {
                let body = serde_json::to_vec(body).unwrap();
                out.push(Posted::unsigned(format!("{file}:{case}"), URL, body));
            }
        }
        for file in fixtures::json_files("whatsapp/meta-webhooks") {
            out.push(Posted::unsigned(file.clone(), URL, fixtures::read(&file)));
        }
        let signed = "whatsapp/signature/pywa_real_text_message.body";
        out.push(Posted::unsigned(signed, URL, fixtures::read(signed)));
        out
    }

    fn sign(&self, secret: &str, posted: &Posted) -> HeaderMap {
        let mut headers = HeaderMap::new();
        signature(&mut headers, &emulator::sign(secret, &posted.body));
        headers
    }

    /// Meta's legacy `X-Hub-Signature` (SHA-1, the same for every Meta webhook) alone.
    fn forgeries(&self, secret: &str, signed: &Posted) -> Vec<(&'static str, Posted)> {
        let sha1 = tsunagu_sandbox::messenger::sign_sha1(secret, &signed.body);
        let mut headers = HeaderMap::new();
        headers.insert("x-hub-signature", HeaderValue::from_str(&sha1).unwrap());
        vec![("only the legacy SHA-1 header", signed.with_headers(headers))]
    }

    fn refusal(&self) -> Code {
        Code::OutsideServiceWindow
    }

    async fn start(&self, fault: Fault) -> Emulator {
        let at = chrono::Utc.with_ymd_and_hms(2025, 4, 1, 9, 0, 0).unwrap();
        let sb = WhatsAppSandbox::with_clock(Arc::new(FakeClock::new(at)));
        let hooks = Hooks::start().await;
        sb.add_phone_number(PhoneNumberConfig {
            phone_number_id: PHONE.into(),
            display_phone_number: "815012345678".into(),
            waba_id: "102290129340398".into(),
            access_token: TOKEN.into(),
            app_secret: SECRET.into(),
            webhook_url: Some(hooks.url("/webhooks/whatsapp/c1")),
        });
        sb.add_user(WA_ID, "田中 太郎");
        sb.add_user(NEVER_WROTE, "佐藤 花子");
        let addr = sb.spawn("127.0.0.1:0").await.unwrap();
        // The patient has just written: the customer-service window is open.
        sb.open_window(PHONE, WA_ID);
        let mut to = WA_ID;
        match fault {
            Fault::None => {}
            Fault::Throttled => sb.set_throughput_limit(1),
            Fault::RetryAfter(secs) => sb.fail_next_with_retry_after(MESSAGES, 429, secs, 1),
            Fault::LostAnswer => sb.fail_next_after_accept(MESSAGES, 1),
            Fault::Silent => sb.delay_next_after_accept(MESSAGES, Duration::from_secs(60), 1),
            Fault::Refused => to = NEVER_WROTE,
        }
        Emulator {
            stored: self.credentials(SECRET),
            api_base_url: format!("http://{addr}/v23.0"),
            api_data_base_url: None,
            default_via: Some(PHONE.to_owned()),
            to: to.to_owned(),
            now_ms: at.timestamp_millis(),
            control: Box::new(WhatsApp { sb, hooks, to }),
        }
    }
}

struct WhatsApp {
    sb: WhatsAppSandbox,
    hooks: Hooks,
    to: &'static str,
}

#[async_trait::async_trait]
impl Control for WhatsApp {
    fn delivered(&self) -> Vec<Option<String>> {
        let chat = self.sb.chat(PHONE, self.to);
        let ours = chat.into_iter().filter(|e| e.from == "business");
        ours.map(|e| Some(e.wamid)).collect()
    }

    async fn patient_sends_picture(&self) -> Picture {
        let png = tsunagu_sandbox::png::png(16, [37, 211, 102]);
        let posted = self
            .sb
            .user_image(PHONE, WA_ID, "田中 太郎", png.clone(), "image/png", None)
            .await
            .unwrap();
        assert_eq!(posted.status, 200);
        Picture {
            posted: self.hooks.last(),
            bytes: Some(png),
        }
    }
}
