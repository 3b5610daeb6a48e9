//! Connecting an SMS channel: what the Twilio console gives (Account info, Phone numbers),
//! checked.
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tsunagu_core::{Code, Refusal};

use crate::provider::setup::{digits, need, parse, refused, FormField, Setup, Shape};
use crate::provider::Credentials;

/// A Twilio account: the auth token signs webhooks and authenticates sends.
#[derive(Clone, Serialize, Deserialize)]
pub struct TwilioSecrets {
    pub account_sid: String,
    pub auth_token: String,
}

impl Credentials {
    /// A Sms channel's secrets; `None` for another provider's.
    pub fn sms(&self) -> Option<&TwilioSecrets> {
        if let Credentials::Sms(c) = self {
            Some(c)
        } else {
            None
        }
    }
}

/// From the Twilio console (Account info, Phone numbers).
#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct TwilioCredentials {
    #[cfg_attr(
        feature = "openapi",
        schema(example = "ACxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx")
    )]
    pub account_sid: String,
    /// Signs every webhook (X-Twilio-Signature) and authenticates sends.
    pub auth_token: String,
    /// The account's SMS numbers this channel serves, E.164.
    #[cfg_attr(feature = "openapi", schema(example = json!(["+15005550006"])))]
    pub numbers: Vec<String>,
    /// Send through a Messaging Service instead of a single number.
    pub messaging_service_sid: Option<String>,
}

pub(super) const FORM: &[FormField] = &[
    FormField::text("account_sid", true),
    FormField::secret("auth_token"),
    FormField {
        shape: Shape::Lines {
            rows: 2,
            columns: &[],
            needed: 0,
            incomplete: Code::InvalidCredentials,
        },
        hint: true,
        placeholder: Some("+15005550006"),
        ..FormField::text("numbers", true)
    },
    FormField::text("messaging_service_sid", false),
];

pub(super) fn setup(input: Value) -> Result<Setup, Refusal> {
    let what = "account_sid, auth_token and numbers (E.164)";
    let c: TwilioCredentials = parse(input, what)?;
    need(&[&c.account_sid, &c.auth_token], what)?;
    let numbers: Vec<String> = c.numbers.iter().map(|n| n.trim().to_string()).collect();
    let e164 = |n: &String| n.starts_with('+') && n.len() > 4 && digits(&n[1..]);
    if numbers.is_empty() || !numbers.iter().all(e164) {
        return Err(refused(
            "numbers needs at least one E.164 number such as +15005550006.",
        ));
    }
    // Kept as given when not blank, as before.
    let service = c.messaging_service_sid.filter(|s| !s.trim().is_empty());
    Ok(Setup {
        credentials: Credentials::Sms(TwilioSecrets {
            account_sid: c.account_sid.trim().to_string(),
            auth_token: c.auth_token.trim().to_string(),
        }),
        addresses: json!({"numbers": numbers, "messaging_service_sid": service}),
        default_api_base: "https://api.twilio.com",
        default_data_api_base: None,
    })
}
