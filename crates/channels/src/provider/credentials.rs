//! Each provider's secrets as stored (encrypted) with a channel, typed. The addresses a channel
//! serves (phone number ids, pages, numbers) are kept in clear beside them, not here.
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// LINE Messaging API channel: signs webhooks with the secret, sends with the token.
#[derive(Clone, Serialize, Deserialize)]
pub struct LineSecrets {
    pub channel_secret: String,
    pub channel_access_token: String,
}

/// One Meta app for WhatsApp: the app secret signs webhooks, the verify token answers the
/// subscription handshake, the access token calls the Cloud API.
#[derive(Clone, Serialize, Deserialize)]
pub struct WhatsAppSecrets {
    pub app_secret: String,
    pub verify_token: String,
    pub access_token: String,
}

/// One Meta app for Messenger/Instagram, with an access token per page it serves.
#[derive(Clone, Serialize, Deserialize)]
pub struct MessengerSecrets {
    pub app_secret: String,
    pub verify_token: String,
    /// Page id → page access token.
    #[serde(default)]
    pub page_tokens: BTreeMap<String, String>,
}

/// A Twilio account: the auth token signs webhooks and authenticates sends.
#[derive(Clone, Serialize, Deserialize)]
pub struct TwilioSecrets {
    pub account_sid: String,
    pub auth_token: String,
}

/// A channel's secrets, typed by its provider. Never logged (no `Debug`).
#[derive(Clone)]
pub enum Credentials {
    Line(LineSecrets),
    WhatsApp(WhatsAppSecrets),
    Messenger(MessengerSecrets),
    Sms(TwilioSecrets),
}

/// Stored credentials that do not read as their provider's: names the provider, never a value.
#[derive(Debug, thiserror::Error)]
#[error("the stored {provider} credentials are incomplete or malformed")]
pub struct BadCredentials {
    pub provider: &'static str,
}

impl Credentials {
    /// Reads stored credentials as `T`, or says which provider's did not read.
    pub fn read<T: serde::de::DeserializeOwned>(
        provider: &'static str,
        stored: &serde_json::Value,
    ) -> Result<T, BadCredentials> {
        T::deserialize(stored).map_err(|_| BadCredentials { provider })
    }

    /// The form they are stored in (encrypted by the caller).
    pub fn to_stored(&self) -> serde_json::Value {
        let v = match self {
            Credentials::Line(c) => serde_json::to_value(c),
            Credentials::WhatsApp(c) => serde_json::to_value(c),
            Credentials::Messenger(c) => serde_json::to_value(c),
            Credentials::Sms(c) => serde_json::to_value(c),
        };
        v.unwrap_or(serde_json::Value::Null)
    }

    pub fn line(&self) -> Option<&LineSecrets> {
        match self {
            Credentials::Line(c) => Some(c),
            _ => None,
        }
    }

    pub fn whatsapp(&self) -> Option<&WhatsAppSecrets> {
        match self {
            Credentials::WhatsApp(c) => Some(c),
            _ => None,
        }
    }

    pub fn messenger(&self) -> Option<&MessengerSecrets> {
        match self {
            Credentials::Messenger(c) => Some(c),
            _ => None,
        }
    }

    pub fn sms(&self) -> Option<&TwilioSecrets> {
        match self {
            Credentials::Sms(c) => Some(c),
            _ => None,
        }
    }
}
