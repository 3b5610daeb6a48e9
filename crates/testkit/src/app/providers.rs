//! The providers a test app can be connected to: each one's sandbox emulator, started on
//! 127.0.0.1:0 on the app's clock, and a channel of that kind in the sample clinic pointed at
//! it, the emulator posting its webhooks to the app.
use tsunagu_channels::ChannelKind;
use tsunagu_core::ChannelId;

use super::{line, messenger, sms, whatsapp, TestApp};

/// A provider to connect, with the secrets its channel holds (`Provider::from(kind)`: the
/// sample's).
#[derive(Clone, Copy, Debug)]
pub enum Provider {
    Line(line::Fixture),
    WhatsApp(whatsapp::Fixture),
    Messenger(messenger::Fixture),
    Sms(sms::Fixture),
}

impl From<ChannelKind> for Provider {
    fn from(kind: ChannelKind) -> Self {
        match kind {
            ChannelKind::Line => Provider::Line(line::Fixture::SAMPLE),
            ChannelKind::WhatsApp => Provider::WhatsApp(whatsapp::Fixture::SAMPLE),
            ChannelKind::Messenger => Provider::Messenger(messenger::Fixture::SAMPLE),
            ChannelKind::Sms => Provider::Sms(sms::Fixture::SAMPLE),
        }
    }
}

impl From<line::Fixture> for Provider {
    fn from(f: line::Fixture) -> Self {
        Provider::Line(f)
    }
}

impl From<whatsapp::Fixture> for Provider {
    fn from(f: whatsapp::Fixture) -> Self {
        Provider::WhatsApp(f)
    }
}

impl From<messenger::Fixture> for Provider {
    fn from(f: messenger::Fixture) -> Self {
        Provider::Messenger(f)
    }
}

impl From<sms::Fixture> for Provider {
    fn from(f: sms::Fixture) -> Self {
        Provider::Sms(f)
    }
}

/// A channel connected to its provider's emulator.
pub struct Connected<S> {
    /// The emulator: drive webhooks (`user_text`…), inject faults, read what was sent.
    pub sandbox: S,
    pub channel: ChannelId,
    /// Where the emulator posts the channel's webhooks: the app's own address.
    pub webhook_url: String,
}

impl Provider {
    /// Starts the emulator and connects a channel of the sample clinic to it.
    pub(crate) async fn connect(self, app: &mut TestApp) {
        fn once<S>(slot: &mut Option<Connected<S>>, c: Connected<S>, name: &str) {
            assert!(slot.is_none(), "one {name} channel per test app");
            *slot = Some(c);
        }
        match self {
            Provider::Line(f) => {
                let c = line::connect(app, f).await;
                once(&mut app.line, c, "LINE");
            }
            Provider::WhatsApp(f) => {
                let c = whatsapp::connect(app, f).await;
                once(&mut app.whatsapp, c, "WhatsApp");
            }
            Provider::Messenger(f) => {
                let c = messenger::connect(app, f).await;
                once(&mut app.messenger, c, "Messenger");
            }
            Provider::Sms(f) => {
                let c = sms::connect(app, f).await;
                once(&mut app.sms, c, "SMS");
            }
        }
    }
}

/// A channel created through `POST /api/v1/channels`, as an administrator connects one: its id
/// and the webhook URL the emulator is to post to. The URL the API shows is checked against
/// the app's public address.
pub(crate) async fn create_through_api(
    app: &TestApp,
    body: serde_json::Value,
) -> (ChannelId, String) {
    let kind = body["kind"].as_str().unwrap_or_default().to_string();
    let (status, created) = app.api_post("/api/v1/channels", body).await;
    assert_eq!(status, 201, "creating the {kind} channel: {created}");
    let id = created["id"].as_str().unwrap().to_string();
    let public = app.services.state.settings.public_base();
    assert_eq!(
        created["webhook_url"],
        format!("{public}/webhooks/{kind}/{id}"),
        "the {kind} webhook URL shown"
    );
    let webhook_url = format!("{}/webhooks/{kind}/{id}", app.base());
    (ChannelId::from_db(id), webhook_url)
}
