//! Connecting a WhatsApp channel: what the Meta app dashboard gives (WhatsApp › API setup, App
//! settings › Basic), checked. One channel holds one app's credentials and may serve several
//! phone numbers of it.
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tsunagu_core::{Code, Refusal};

use crate::provider::setup::{digits, need, parse, refused, trimmed, FormField, Setup, Shape};
use crate::provider::Credentials;

/// The Graph API, its version part of the base.
pub(crate) const GRAPH_API: &str = "https://graph.facebook.com/v23.0";

/// One Meta app for WhatsApp: the app secret signs webhooks, the verify token answers the
/// subscription handshake, the access token calls the Cloud API.
#[derive(Clone, Serialize, Deserialize)]
pub struct WhatsAppSecrets {
    pub app_secret: String,
    pub verify_token: String,
    pub access_token: String,
}

impl Credentials {
    /// A WhatsApp channel's secrets; `None` for another provider's.
    pub fn whatsapp(&self) -> Option<&WhatsAppSecrets> {
        if let Credentials::WhatsApp(c) = self {
            Some(c)
        } else {
            None
        }
    }
}

/// From the Meta app dashboard (WhatsApp › API setup, App settings › Basic). One channel holds
/// one app's credentials and may serve several phone numbers of it.
#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WhatsAppCredentials {
    /// App settings › Basic › App secret: signs every webhook.
    pub app_secret: String,
    /// Any string you choose; type the same in the app's webhook configuration.
    pub verify_token: String,
    /// A System User access token with `whatsapp_business_messaging` (and
    /// `whatsapp_business_management` for templates).
    pub access_token: String,
    /// WhatsApp Business Account id (for templates).
    pub waba_id: Option<String>,
    /// The phone numbers this channel serves (at least one).
    pub phone_numbers: Vec<WhatsAppNumber>,
}

#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WhatsAppNumber {
    /// "Phone number ID" in API setup (not the phone number itself).
    pub phone_number_id: String,
    #[cfg_attr(feature = "openapi", schema(example = "+81 3-1234-5678"))]
    pub display_phone_number: Option<String>,
}

pub(super) const FORM: &[FormField] = &[
    FormField::secret("app_secret"),
    FormField::secret("verify_token"),
    FormField::secret("access_token"),
    FormField {
        shape: Shape::Single { numeric: true },
        ..FormField::text("waba_id", false)
    },
    FormField {
        shape: Shape::Lines {
            rows: 3,
            columns: &["phone_number_id", "display_phone_number"],
            needed: 1,
            incomplete: Code::InvalidCredentials,
        },
        hint: true,
        placeholder: Some("106540352242922 +81 3-1234-5678"),
        ..FormField::text("phone_numbers", true)
    },
];

pub(super) fn setup(input: Value) -> Result<Setup, Refusal> {
    let what = "app_secret, verify_token, access_token and phone_numbers[].phone_number_id";
    let c: WhatsAppCredentials = parse(input, what)?;
    need(&[&c.app_secret, &c.verify_token, &c.access_token], what)?;
    let numbers: Vec<Value> = c
        .phone_numbers
        .into_iter()
        .map(|p| {
            let id = p.phone_number_id.trim().to_string();
            json!({"phone_number_id": id, "display_phone_number": p.display_phone_number})
        })
        .collect();
    let numeric = |p: &Value| p["phone_number_id"].as_str().is_some_and(digits);
    if numbers.is_empty() || !numbers.iter().all(numeric) {
        return Err(refused(
            "phone_numbers needs at least one numeric phone_number_id.",
        ));
    }
    Ok(Setup {
        credentials: Credentials::WhatsApp(WhatsAppSecrets {
            app_secret: c.app_secret.trim().to_string(),
            verify_token: c.verify_token.trim().to_string(),
            access_token: c.access_token.trim().to_string(),
        }),
        addresses: json!({"waba_id": trimmed(c.waba_id), "phone_numbers": numbers}),
        default_api_base: GRAPH_API,
        default_data_api_base: None,
    })
}
