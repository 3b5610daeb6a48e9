//! Connecting a channel of any kind, shared by the API and the settings page: the kind's
//! adapter checks the credentials (`Adapter::setup`, documented in the OpenAPI document) and
//! splits them into secrets (encrypted) and the addresses the channel serves (kept in clear for
//! webhook routing). Nothing here knows a provider.
use anyhow::Context;
use serde_json::Value;
use tsunagu_channels::outbound::{Outbound, Refused};
use tsunagu_channels::ChannelKind;
use tsunagu_core::config::Settings;
use tsunagu_core::Refusal;
use tsunagu_store::channels::Endpoints;

/// A channel ready to store.
pub struct Setup {
    /// The stored form of its secrets, to encrypt.
    pub creds: Value,
    pub endpoints: Endpoints,
    pub default_api_base: &'static str,
    /// A separate content host (LINE's), defaulted and checked like the API base.
    pub default_data_api_base: Option<&'static str>,
}

/// Checks `credentials` for `kind`: `Ok(Err)` is `invalid_credentials` with what is needed.
pub fn prepare(
    kind: ChannelKind,
    credentials: Option<Value>,
) -> anyhow::Result<Result<Setup, Refusal>> {
    let setup = match kind.adapter().setup(credentials.unwrap_or(Value::Null)) {
        Ok(s) => s,
        Err(refused) => return Ok(Err(refused)),
    };
    // The adapter speaks the stored form; read back as the store's type it is kept as ever.
    let endpoints: Endpoints = serde_json::from_value(setup.addresses)
        .with_context(|| format!("reading the addresses a {kind} adapter set up"))?;
    Ok(Ok(Setup {
        creds: setup.credentials.to_stored(),
        endpoints,
        default_api_base: setup.default_api_base,
        default_data_api_base: setup.default_data_api_base,
    }))
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn prepared(kind: ChannelKind, input: Option<Value>) -> Result<Setup, Refusal> {
        prepare(kind, input).expect("the addresses read")
    }

    #[test]
    fn each_kind_checks_its_fields() {
        let wa = json!({"app_secret": "s", "verify_token": "v", "access_token": "t",
            "phone_numbers": [{"phone_number_id": "106540352242922"}]});
        let s = prepared(ChannelKind::WhatsApp, Some(wa)).expect("valid");
        assert!(s.endpoints.serves("106540352242922"));
        assert!(s.creds.get("app_secret").is_some());
        let bad = json!({"app_secret": "s", "verify_token": "v", "access_token": "t", "phone_numbers": []});
        assert!(prepared(ChannelKind::WhatsApp, Some(bad)).is_err());
        let sms = json!({"account_sid": "AC1", "auth_token": "x", "numbers": ["+15005550006"]});
        assert!(prepared(ChannelKind::Sms, Some(sms)).is_ok());
        let sms = json!({"account_sid": "AC1", "auth_token": "x", "numbers": ["090-1234"]});
        assert!(prepared(ChannelKind::Sms, Some(sms)).is_err());
        let fb = json!({"app_secret": "s", "verify_token": "v", "pages": [{"page_id": "123", "access_token": "p"}]});
        let s = prepared(ChannelKind::Messenger, Some(fb)).expect("valid");
        assert_eq!(s.creds["page_tokens"]["123"], "p");
        assert!(prepared(ChannelKind::Line, None).is_err());
    }

    #[test]
    fn an_empty_input_is_refused_for_every_kind() {
        for &kind in ChannelKind::ALL {
            let refused = prepare(kind, Some(json!({}))).expect("refused, not failed");
            assert_eq!(
                refused.err().map(|r| r.code),
                Some(tsunagu_core::Code::InvalidCredentials),
                "{kind}"
            );
        }
    }
}
