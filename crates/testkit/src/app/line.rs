//! The sample clinic's LINE official account on the LINE sandbox, with one patient who is a
//! friend of it.
use std::sync::Arc;

use serde_json::json;
use tsunagu_sandbox::line::{ChannelConfig, LineSandbox, UserProfile};
use tsunagu_store::channels;

use super::{Connected, TestApp};

pub const SECRET: &str = "8c570fa6dd201bb328f1c1eac23a96d8";
pub const ACCESS_TOKEN: &str = "test-access-token-0123456789";
/// The official account's own user id (the webhook `destination`).
pub const BOT_USER_ID: &str = "U0123456789abcdef0123456789abcdef";
/// The patient: 山田 花子, with a picture, a status message and Japanese.
pub const PATIENT: &str = "U4af4980629a1b2c3d4e5f60718293a4b";

/// The secrets the channel holds.
#[derive(Clone, Copy, Debug)]
pub struct Fixture {
    pub channel_secret: &'static str,
    pub access_token: &'static str,
}

impl Fixture {
    pub const SAMPLE: Fixture = Fixture {
        channel_secret: SECRET,
        access_token: ACCESS_TOKEN,
    };
}

/// The `x-line-signature` LINE puts on `body` for the sample channel (the emulator's signer,
/// not the adapter's).
pub fn sign(body: &[u8]) -> String {
    tsunagu_sandbox::line::sign(SECRET, body)
}

/// The channel is stored directly (the LINE channel tests were written against this row: no
/// API call, no audit entry); the sandbox shares the app's clock, so reply-token lifetimes line
/// up with the worker's.
pub(crate) async fn connect(app: &TestApp, f: Fixture) -> Connected<LineSandbox> {
    let sandbox = LineSandbox::with_clock(Arc::new(app.clock.clone()));
    let addr = sandbox.spawn("127.0.0.1:0").await.unwrap();
    let url = format!("http://{addr}");
    let creds = app.services.state.cipher.encrypt_json(
        &json!({"channel_secret": f.channel_secret, "channel_access_token": f.access_token}),
    );
    let mut tx = app.db.begin().await.unwrap();
    let channel = channels::create(
        tx.conn(),
        channels::NewChannel {
            clinic_id: app.clinic(),
            kind: "line",
            name: "LINE",
            credentials_enc: &creds,
            api_base_url: &url,
            api_data_base_url: Some(&url),
            settings: "{}",
        },
        app.now_ms(),
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let webhook_url = format!("{}/webhooks/line/{channel}", app.base());
    sandbox.add_channel(ChannelConfig {
        channel_secret: f.channel_secret.into(),
        access_token: f.access_token.into(),
        bot_user_id: BOT_USER_ID.into(),
        webhook_url: Some(webhook_url.clone()),
        quota: None,
    });
    sandbox.add_user(
        f.access_token,
        UserProfile {
            user_id: PATIENT.into(),
            display_name: "山田 花子".into(),
            picture_url: Some("https://profile.line-scdn.net/hanako".into()),
            status_message: Some("よろしくお願いします".into()),
            language: Some("ja".into()),
        },
    );
    Connected {
        sandbox,
        channel,
        webhook_url,
    }
}
