//! Connecting a channel of any kind, shared by the API and the settings page: each kind's
//! credential fields (documented in the OpenAPI document), checked, split into secrets
//! (encrypted) and the addresses the channel serves (kept in clear for webhook routing).
use serde::Deserialize;
use serde_json::{json, Value};
use tsunagu_channels::outbound::{Outbound, Refused};
use tsunagu_channels::ChannelKind;
use tsunagu_core::config::Settings;
use tsunagu_store::channels::{Endpoints, PageEndpoint, PhoneNumberEndpoint};
use utoipa::ToSchema;

/// From the LINE Developers console (Messaging API channel).
#[derive(Deserialize, ToSchema)]
pub struct LineCredentials {
    pub channel_secret: String,
    pub channel_access_token: String,
}

/// From the Meta app dashboard (WhatsApp › API setup, App settings › Basic). One channel holds
/// one app's credentials and may serve several phone numbers of it.
#[derive(Deserialize, ToSchema)]
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

#[derive(Deserialize, ToSchema)]
pub struct WhatsAppNumber {
    /// "Phone number ID" in API setup (not the phone number itself).
    pub phone_number_id: String,
    #[schema(example = "+81 3-1234-5678")]
    pub display_phone_number: Option<String>,
}

/// From the Meta app dashboard (Messenger › Settings). One app, one or more pages (or
/// Instagram professional accounts), each with its page access token.
#[derive(Deserialize, ToSchema)]
pub struct MessengerCredentials {
    pub app_secret: String,
    pub verify_token: String,
    pub pages: Vec<MessengerPage>,
}

#[derive(Deserialize, ToSchema)]
pub struct MessengerPage {
    pub page_id: String,
    pub name: Option<String>,
    /// The Instagram professional account linked to this page, to receive and answer Instagram
    /// messages through it (its id is the `entry[].id` of Instagram webhooks).
    pub instagram_id: Option<String>,
    /// Page access token with `pages_messaging`.
    pub access_token: String,
}

/// From the Twilio console (Account info, Phone numbers).
#[derive(Deserialize, ToSchema)]
pub struct TwilioCredentials {
    #[schema(example = "ACxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx")]
    pub account_sid: String,
    /// Signs every webhook (X-Twilio-Signature) and authenticates sends.
    pub auth_token: String,
    /// The account's SMS numbers this channel serves, E.164.
    #[schema(example = json!(["+15005550006"]))]
    pub numbers: Vec<String>,
    /// Send through a Messaging Service instead of a single number.
    pub messaging_service_sid: Option<String>,
}

/// A channel ready to store.
pub struct Setup {
    pub creds: Value,
    pub endpoints: Endpoints,
    pub default_api_base: &'static str,
}

/// Checks `credentials` for `kind`. The error is the message for `invalid_credentials`.
pub fn prepare(kind: ChannelKind, credentials: Option<Value>) -> Result<Setup, String> {
    let creds = credentials.unwrap_or(Value::Null);
    match kind {
        ChannelKind::Line => {
            let c: LineCredentials = parse(creds, "channel_secret and channel_access_token")?;
            need(
                &[&c.channel_secret, &c.channel_access_token],
                "channel_secret and channel_access_token",
            )?;
            Ok(Setup {
                creds: json!({"channel_secret": c.channel_secret.trim(), "channel_access_token": c.channel_access_token.trim()}),
                endpoints: Endpoints::default(),
                default_api_base: "https://api.line.me",
            })
        }
        ChannelKind::WhatsApp => {
            let what = "app_secret, verify_token, access_token and phone_numbers[].phone_number_id";
            let c: WhatsAppCredentials = parse(creds, what)?;
            need(&[&c.app_secret, &c.verify_token, &c.access_token], what)?;
            let phone_numbers = c
                .phone_numbers
                .into_iter()
                .map(|p| PhoneNumberEndpoint {
                    phone_number_id: p.phone_number_id.trim().to_string(),
                    display_phone_number: p.display_phone_number,
                })
                .collect::<Vec<_>>();
            if phone_numbers.is_empty() || phone_numbers.iter().any(|p| !digits(&p.phone_number_id))
            {
                return Err("phone_numbers needs at least one numeric phone_number_id.".into());
            }
            Ok(Setup {
                creds: json!({"app_secret": c.app_secret.trim(), "verify_token": c.verify_token.trim(), "access_token": c.access_token.trim()}),
                endpoints: Endpoints {
                    waba_id: c
                        .waba_id
                        .map(|w| w.trim().to_string())
                        .filter(|w| !w.is_empty()),
                    phone_numbers,
                    ..Endpoints::default()
                },
                default_api_base: "https://graph.facebook.com/v23.0",
            })
        }
        ChannelKind::Messenger => {
            let what = "app_secret, verify_token and pages[] with page_id and access_token";
            let c: MessengerCredentials = parse(creds, what)?;
            need(&[&c.app_secret, &c.verify_token], what)?;
            if c.pages.is_empty()
                || c.pages
                    .iter()
                    .any(|p| !digits(p.page_id.trim()) || p.access_token.trim().is_empty())
            {
                return Err(format!("credentials need {what}."));
            }
            let tokens: serde_json::Map<String, Value> = c
                .pages
                .iter()
                .map(|p| (p.page_id.trim().to_string(), json!(p.access_token.trim())))
                .collect();
            let pages = c
                .pages
                .into_iter()
                .map(|p| PageEndpoint {
                    page_id: p.page_id.trim().to_string(),
                    name: p.name,
                    instagram_id: p
                        .instagram_id
                        .map(|i| i.trim().to_string())
                        .filter(|i| !i.is_empty()),
                })
                .collect();
            Ok(Setup {
                creds: json!({"app_secret": c.app_secret.trim(), "verify_token": c.verify_token.trim(), "page_tokens": tokens}),
                endpoints: Endpoints {
                    pages,
                    ..Endpoints::default()
                },
                default_api_base: "https://graph.facebook.com/v23.0",
            })
        }
        ChannelKind::Sms => {
            let what = "account_sid, auth_token and numbers (E.164)";
            let c: TwilioCredentials = parse(creds, what)?;
            need(&[&c.account_sid, &c.auth_token], what)?;
            let numbers: Vec<String> = c.numbers.iter().map(|n| n.trim().to_string()).collect();
            let e164 = |n: &str| n.starts_with('+') && n.len() > 4 && digits(&n[1..]);
            if numbers.is_empty() || !numbers.iter().all(|n| e164(n)) {
                return Err("numbers needs at least one E.164 number such as +15005550006.".into());
            }
            Ok(Setup {
                creds: json!({"account_sid": c.account_sid.trim(), "auth_token": c.auth_token.trim()}),
                endpoints: Endpoints {
                    numbers,
                    messaging_service_sid: c.messaging_service_sid.filter(|s| !s.trim().is_empty()),
                    ..Endpoints::default()
                },
                default_api_base: "https://api.twilio.com",
            })
        }
    }
}

/// The outbound rule (`tsunagu_channels::outbound`) for an API base URL the administrator
/// typed: https on a public address, every address its name resolves to included, unless
/// `[outbound] allow_private_addresses`. An untyped field keeps the provider's own address,
/// which is not looked up.
pub async fn check_api_base(
    settings: &Settings,
    typed: Option<&str>,
    base: &str,
) -> Result<(), Refused> {
    if typed.is_none_or(|t| t.trim().is_empty()) {
        return Ok(());
    }
    let guard = Outbound::from_settings(&settings.outbound);
    guard.check_url(base).await.map(|_| ())
}

fn parse<T: for<'de> Deserialize<'de>>(v: Value, what: &str) -> Result<T, String> {
    serde_json::from_value(v).map_err(|_| format!("credentials need {what}."))
}

fn need(values: &[&String], what: &str) -> Result<(), String> {
    if values.iter().any(|v| v.trim().is_empty()) {
        return Err(format!("credentials need non-empty {what}."));
    }
    Ok(())
}

fn digits(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_checks_its_fields() {
        let wa = json!({"app_secret": "s", "verify_token": "v", "access_token": "t",
            "phone_numbers": [{"phone_number_id": "106540352242922"}]});
        let s = prepare(ChannelKind::WhatsApp, Some(wa)).expect("valid");
        assert!(s.endpoints.serves("106540352242922"));
        assert!(s.creds.get("app_secret").is_some());
        let bad = json!({"app_secret": "s", "verify_token": "v", "access_token": "t", "phone_numbers": []});
        assert!(prepare(ChannelKind::WhatsApp, Some(bad)).is_err());
        let sms = json!({"account_sid": "AC1", "auth_token": "x", "numbers": ["+15005550006"]});
        assert!(prepare(ChannelKind::Sms, Some(sms)).is_ok());
        let sms = json!({"account_sid": "AC1", "auth_token": "x", "numbers": ["090-1234"]});
        assert!(prepare(ChannelKind::Sms, Some(sms)).is_err());
        let fb = json!({"app_secret": "s", "verify_token": "v", "pages": [{"page_id": "123", "access_token": "p"}]});
        let s = prepare(ChannelKind::Messenger, Some(fb)).expect("valid");
        assert_eq!(s.creds["page_tokens"]["123"], "p");
        assert!(prepare(ChannelKind::Line, None).is_err());
    }
}
