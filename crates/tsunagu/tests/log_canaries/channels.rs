//! WhatsApp, Messenger and SMS channels on the test app, created through the API against their
//! sandboxes, each with one canary patient.
use std::sync::Arc;

use reqwest::StatusCode;
use serde_json::json;
use tsunagu_sandbox::messenger::{MessengerSandbox, MessengerUser, PageConfig};
use tsunagu_sandbox::twilio::{NumberConfig, TwilioSandbox};
use tsunagu_sandbox::whatsapp::{PhoneNumberConfig, WhatsAppSandbox};

use crate::canary;
use crate::common::TestApp;

pub const WA_PHONE_ID: &str = "106540352242922";
pub const PAGE: &str = "104385229123456";
pub const SMS_NUMBER: &str = "+815012345678";

/// `POST /api/v1/channels`: the new channel's id and webhook URL.
async fn create(app: &TestApp, body: serde_json::Value) -> (String, String) {
    let (s, ch) = app.api_post("/api/v1/channels", body.clone()).await;
    assert_eq!(s, StatusCode::CREATED, "{ch}");
    let id = ch["id"].as_str().unwrap().to_string();
    let kind = body["kind"].as_str().unwrap();
    (id.clone(), format!("{}/webhooks/{kind}/{id}", app.base))
}

pub async fn whatsapp(app: &TestApp) -> (WhatsAppSandbox, String) {
    let sb = WhatsAppSandbox::with_clock(Arc::new(app.clock.clone()));
    let addr = sb.spawn("127.0.0.1:0").await.unwrap();
    let (id, webhook) = create(app, json!({
        "kind": "whatsapp",
        "name": "WhatsApp",
        "credentials": {
            "app_secret": canary::WA_APP_SECRET,
            "verify_token": "verify-7f3a",
            "access_token": canary::WA_TOKEN,
            "waba_id": "102290129340398",
            "phone_numbers": [{"phone_number_id": WA_PHONE_ID, "display_phone_number": "+1 555-078-3881"}],
        },
        "api_base_url": format!("http://{addr}/v23.0"),
    }))
    .await;
    sb.add_phone_number(PhoneNumberConfig {
        phone_number_id: WA_PHONE_ID.into(),
        display_phone_number: "15550783881".into(),
        waba_id: "102290129340398".into(),
        access_token: canary::WA_TOKEN.into(),
        app_secret: canary::WA_APP_SECRET.into(),
        webhook_url: Some(webhook),
    });
    (sb, id)
}

pub async fn messenger(app: &TestApp) -> (MessengerSandbox, String) {
    let sb = MessengerSandbox::with_clock(Arc::new(app.clock.clone()));
    let addr = sb.spawn("127.0.0.1:0").await.unwrap();
    let (id, webhook) = create(app, json!({
        "kind": "messenger",
        "name": "Messenger",
        "credentials": {
            "app_secret": canary::MS_APP_SECRET,
            "verify_token": "verify-7781",
            "pages": [{"page_id": PAGE, "name": "さくら内科", "access_token": canary::MS_TOKEN}],
        },
        "api_base_url": format!("http://{addr}/v23.0"),
    }))
    .await;
    sb.add_page(PageConfig {
        page_id: PAGE.into(),
        name: "さくら内科".into(),
        access_token: canary::MS_TOKEN.into(),
        app_secret: canary::MS_APP_SECRET.into(),
        webhook_url: Some(webhook),
        instagram: false,
    });
    sb.add_user(
        PAGE,
        MessengerUser {
            psid: canary::MS_PSID.into(),
            first_name: canary::MS_FIRST.into(),
            last_name: canary::MS_LAST.into(),
            profile_pic: None,
        },
    );
    (sb, id)
}

pub async fn sms(app: &TestApp) -> (TwilioSandbox, String) {
    let sb = TwilioSandbox::with_clock(Arc::new(app.clock.clone()));
    let addr = sb.spawn("127.0.0.1:0").await.unwrap();
    let (id, webhook) = create(app, json!({
        "kind": "sms",
        "name": "SMS",
        "credentials": {"account_sid": canary::TWILIO_SID, "auth_token": canary::TWILIO_TOKEN, "numbers": [SMS_NUMBER]},
        "api_base_url": format!("http://{addr}"),
    }))
    .await;
    sb.add_number(NumberConfig {
        account_sid: canary::TWILIO_SID.into(),
        auth_token: canary::TWILIO_TOKEN.into(),
        phone_number: SMS_NUMBER.into(),
        sms_url: Some(webhook),
        messaging_service_sid: None,
    });
    (sb, id)
}
