//! The sample clinic's WhatsApp Business number on the WhatsApp sandbox, and another number of
//! the same Meta app that the channel does not serve.
use std::sync::Arc;

use serde_json::json;
use tsunagu_sandbox::whatsapp::{PhoneNumberConfig, WhatsAppSandbox};

use super::providers::create_through_api;
use super::{Connected, TestApp};

/// The clinic's business number (Meta's "Phone number ID"), and its WhatsApp Business Account.
pub const PHONE_ID: &str = "106540352242922";
pub const DISPLAY: &str = "15550783881";
pub const WABA: &str = "102290129340398";
/// Another number of the same Meta app that this channel does not serve.
pub const OTHER_PHONE_ID: &str = "106540352249999";
pub const APP_SECRET: &str = "5f1c0a9e8b7d6c5b4a39281706f5e4d3";
pub const VERIFY_TOKEN: &str = "tsunagu-verify-7f3a";
pub const ACCESS_TOKEN: &str = "EAAwhatsapp-test-token-0123456789";
pub const PATIENT: &str = "819012345678";
pub const PATIENT_NAME: &str = "佐藤 花子";

/// The secrets the channel holds.
#[derive(Clone, Copy, Debug)]
pub struct Fixture {
    pub app_secret: &'static str,
    pub access_token: &'static str,
}

impl Fixture {
    pub const SAMPLE: Fixture = Fixture {
        app_secret: APP_SECRET,
        access_token: ACCESS_TOKEN,
    };
}

pub(crate) async fn connect(app: &TestApp, f: Fixture) -> Connected<WhatsAppSandbox> {
    let sandbox = WhatsAppSandbox::with_clock(Arc::new(app.clock.clone()));
    let addr = sandbox.spawn("127.0.0.1:0").await.unwrap();
    let (channel, webhook_url) = create_through_api(
        app,
        json!({
            "kind": "whatsapp",
            "name": "さくら内科 WhatsApp",
            "credentials": {
                "app_secret": f.app_secret,
                "verify_token": VERIFY_TOKEN,
                "access_token": f.access_token,
                "waba_id": WABA,
                "phone_numbers": [{"phone_number_id": PHONE_ID, "display_phone_number": "+1 555-078-3881"}],
            },
            "api_base_url": format!("http://{addr}/v23.0"),
        }),
    )
    .await;
    for (id, display) in [(PHONE_ID, DISPLAY), (OTHER_PHONE_ID, "15550789999")] {
        sandbox.add_phone_number(PhoneNumberConfig {
            phone_number_id: id.into(),
            display_phone_number: display.into(),
            waba_id: WABA.into(),
            // Another number would have its own token; only ours is known to tsunagu.
            access_token: if id == PHONE_ID {
                f.access_token.into()
            } else {
                format!("{}-other", f.access_token)
            },
            app_secret: f.app_secret.into(),
            webhook_url: Some(webhook_url.clone()),
        });
    }
    Connected {
        sandbox,
        channel,
        webhook_url,
    }
}
