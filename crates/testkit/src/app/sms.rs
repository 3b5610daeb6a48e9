//! The sample clinic's SMS channel (one Twilio number) on the Twilio sandbox, and another
//! number of the same account that the channel does not serve.
use std::sync::Arc;

use serde_json::json;
use tsunagu_sandbox::twilio::{NumberConfig, TwilioSandbox};

use super::providers::create_through_api;
use super::{Connected, TestApp};

pub const ACCOUNT: &str = "AC0123456789abcdef0123456789abcdef";
pub const AUTH_TOKEN: &str = "5f2c9a8b7e6d4c3b2a1908f7e6d5c4b3";
/// The clinic's Twilio number.
pub const CLINIC: &str = "+815012345678";
/// A number the clinic's account owns but did not connect to tsunagu.
pub const OTHER_NUMBER: &str = "+815098765432";
pub const PATIENT: &str = "+819012345678";

/// The secret the channel holds.
#[derive(Clone, Copy, Debug)]
pub struct Fixture {
    pub auth_token: &'static str,
}

impl Fixture {
    pub const SAMPLE: Fixture = Fixture {
        auth_token: AUTH_TOKEN,
    };
}

/// Both numbers post to the app's own address, also when a test sets another public URL (as
/// behind a proxy): signatures are then checked against the public one.
pub(crate) async fn connect(app: &TestApp, f: Fixture) -> Connected<TwilioSandbox> {
    let sandbox = TwilioSandbox::with_clock(Arc::new(app.clock.clone()));
    let addr = sandbox.spawn("127.0.0.1:0").await.unwrap();
    let (channel, webhook_url) = create_through_api(
        app,
        json!({
            "kind": "sms",
            "name": "さくら内科 SMS",
            "credentials": {"account_sid": ACCOUNT, "auth_token": f.auth_token, "numbers": [CLINIC]},
            "api_base_url": format!("http://{addr}"),
        }),
    )
    .await;
    for number in [CLINIC, OTHER_NUMBER] {
        sandbox.add_number(NumberConfig {
            account_sid: ACCOUNT.into(),
            auth_token: f.auth_token.into(),
            phone_number: number.into(),
            sms_url: Some(webhook_url.clone()),
            messaging_service_sid: None,
        });
    }
    Connected {
        sandbox,
        channel,
        webhook_url,
    }
}
