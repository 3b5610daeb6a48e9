//! The test app with WhatsApp, Messenger and SMS channels besides LINE, connected through the
//! API to their sandboxes (`tsunagu_testkit::app`) with canary secrets, and one canary person
//! on Messenger (the other emulators take anyone who writes).
use tsunagu_sandbox::messenger::{MessengerSandbox, MessengerUser};
use tsunagu_sandbox::twilio::TwilioSandbox;
use tsunagu_sandbox::whatsapp::WhatsAppSandbox;
use tsunagu_testkit::app::{messenger, sms, whatsapp};

use crate::canary;
use crate::common::{self, TestApp};

pub const WA_PHONE_ID: &str = whatsapp::PHONE_ID;
pub const PAGE: &str = messenger::PAGE;
pub const SMS_NUMBER: &str = sms::CLINIC;

/// The app with a channel of every kind, the secrets of the three connected through the API
/// being canaries.
pub async fn spawn_app() -> TestApp {
    let builder = common::builder()
        .channel(whatsapp::Fixture {
            app_secret: canary::WA_APP_SECRET,
            access_token: canary::WA_TOKEN,
        })
        .channel(messenger::Fixture {
            app_secret: canary::MS_APP_SECRET,
            page_token: canary::MS_TOKEN,
        })
        .channel(sms::Fixture {
            auth_token: canary::TWILIO_TOKEN,
        });
    let app = common::start(builder).await;
    app.messenger().sandbox.add_user(
        PAGE,
        MessengerUser {
            psid: canary::MS_PSID.into(),
            first_name: canary::MS_FIRST.into(),
            last_name: canary::MS_LAST.into(),
            profile_pic: None,
        },
    );
    // The account id is no secret: the sample's is the canary module's.
    assert_eq!(sms::ACCOUNT, canary::TWILIO_SID);
    app
}

pub fn whatsapp(app: &TestApp) -> (WhatsAppSandbox, String) {
    let c = app.whatsapp();
    (c.sandbox.clone(), c.channel.to_string())
}

pub fn messenger(app: &TestApp) -> (MessengerSandbox, String) {
    let c = app.messenger();
    (c.sandbox.clone(), c.channel.to_string())
}

pub fn sms(app: &TestApp) -> (TwilioSandbox, String) {
    let c = app.sms();
    (c.sandbox.clone(), c.channel.to_string())
}
