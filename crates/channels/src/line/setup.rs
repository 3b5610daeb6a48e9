//! Connecting a LINE channel: what the LINE Developers console gives, checked.
//! LINE doc: "Messaging API › Channel secret", "Channel access token (long-lived)".
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tsunagu_core::Refusal;

use crate::provider::setup::{need, parse, FormField, Setup};
use crate::provider::Credentials;

/// LINE Messaging API channel: signs webhooks with the secret, sends with the token.
#[derive(Clone, Serialize, Deserialize)]
pub struct LineSecrets {
    pub channel_secret: String,
    pub channel_access_token: String,
}

impl Credentials {
    /// A Line channel's secrets; `None` for another provider's.
    pub fn line(&self) -> Option<&LineSecrets> {
        if let Credentials::Line(c) = self {
            Some(c)
        } else {
            None
        }
    }
}

/// From the LINE Developers console (Messaging API channel).
#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LineCredentials {
    pub channel_secret: String,
    pub channel_access_token: String,
}

pub(super) const FORM: &[FormField] = &[
    FormField::secret("channel_secret"),
    FormField::secret("channel_access_token"),
];

pub(super) fn setup(input: Value) -> Result<Setup, Refusal> {
    let what = "channel_secret and channel_access_token";
    let c: LineCredentials = parse(input, what)?;
    need(&[&c.channel_secret, &c.channel_access_token], what)?;
    Ok(Setup {
        credentials: Credentials::Line(LineSecrets {
            channel_secret: c.channel_secret.trim().to_string(),
            channel_access_token: c.channel_access_token.trim().to_string(),
        }),
        // A LINE channel is one account: nothing to route by.
        addresses: Value::Object(serde_json::Map::new()),
        default_api_base: "https://api.line.me",
        default_data_api_base: Some("https://api-data.line.me"),
    })
}
