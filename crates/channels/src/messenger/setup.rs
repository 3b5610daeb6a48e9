//! Connecting a Messenger channel: what the Meta app dashboard gives (Messenger › Settings),
//! checked. One app, one or more pages (or Instagram professional accounts), each with its page
//! access token.
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tsunagu_core::{Code, Refusal};

use crate::provider::setup::{digits, need, parse, refused, trimmed, FormField, Setup, Shape};
use crate::provider::Credentials;
use crate::whatsapp::setup::GRAPH_API;

/// One Meta app for Messenger/Instagram, with an access token per page it serves.
#[derive(Clone, Serialize, Deserialize)]
pub struct MessengerSecrets {
    pub app_secret: String,
    pub verify_token: String,
    /// Page id → page access token.
    #[serde(default)]
    pub page_tokens: BTreeMap<String, String>,
}

impl Credentials {
    /// A Messenger channel's secrets; `None` for another provider's.
    pub fn messenger(&self) -> Option<&MessengerSecrets> {
        if let Credentials::Messenger(c) = self {
            Some(c)
        } else {
            None
        }
    }
}

/// From the Meta app dashboard (Messenger › Settings). One app, one or more pages (or
/// Instagram professional accounts), each with its page access token.
#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MessengerCredentials {
    pub app_secret: String,
    pub verify_token: String,
    pub pages: Vec<MessengerPage>,
}

#[derive(Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MessengerPage {
    pub page_id: String,
    pub name: Option<String>,
    /// The Instagram professional account linked to this page, to receive and answer Instagram
    /// messages through it (its id is the `entry[].id` of Instagram webhooks).
    pub instagram_id: Option<String>,
    /// Page access token with `pages_messaging`.
    pub access_token: String,
}

pub(super) const FORM: &[FormField] = &[
    FormField::secret("app_secret"),
    FormField::secret("verify_token"),
    // Holds the page tokens: secret, so not shown again on a refused form.
    FormField {
        shape: Shape::Lines {
            rows: 3,
            columns: &["page_id", "access_token", "name"],
            needed: 2,
            incomplete: Code::InvalidPages,
        },
        secret: true,
        hint: true,
        placeholder: Some("1234567890 EAAG… さくら内科"),
        ..FormField::text("pages", true)
    },
];

pub(super) fn setup(input: Value) -> Result<Setup, Refusal> {
    let what = "app_secret, verify_token and pages[] with page_id and access_token";
    let c: MessengerCredentials = parse(input, what)?;
    need(&[&c.app_secret, &c.verify_token], what)?;
    let incomplete =
        |p: &MessengerPage| !digits(p.page_id.trim()) || p.access_token.trim().is_empty();
    if c.pages.is_empty() || c.pages.iter().any(incomplete) {
        return Err(refused(format!("credentials need {what}.")));
    }
    let page_tokens: BTreeMap<String, String> = c
        .pages
        .iter()
        .map(|p| {
            (
                p.page_id.trim().to_string(),
                p.access_token.trim().to_string(),
            )
        })
        .collect();
    let pages: Vec<Value> = c
        .pages
        .into_iter()
        .map(|p| {
            json!({"page_id": p.page_id.trim(), "name": p.name,
                "instagram_id": trimmed(p.instagram_id)})
        })
        .collect();
    Ok(Setup {
        credentials: Credentials::Messenger(MessengerSecrets {
            app_secret: c.app_secret.trim().to_string(),
            verify_token: c.verify_token.trim().to_string(),
            page_tokens,
        }),
        addresses: json!({"pages": pages}),
        default_api_base: GRAPH_API,
        default_data_api_base: None,
    })
}
