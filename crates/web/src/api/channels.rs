//! `/api/v1/channels`: connecting a clinic's provider account. Credentials go in encrypted and
//! never come back out (not in responses, not in logs).
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use tsunagu_channels::outbound::Refused;
use tsunagu_channels::ChannelKind;
use tsunagu_core::{Code, Permission, Refusal};
use tsunagu_store::channels::{self, Channel, NewChannel};
use utoipa::{IntoParams, ToSchema};

use super::auth::{audit_change, ApiAuth, Event};
use super::extract::{
    decode_cursor, encode_cursor, page_limit, rfc3339, ApiJson, ApiQuery, ErrorBody,
};
use super::idempotent::IdempotencyKey;
use super::read_conn;
use crate::channel_setup;
use crate::client_ip::ClientIp;
use crate::{ApiError, AppState};

// No `Debug`: it holds secrets.
/// A new channel of any kind.
#[derive(Deserialize, ToSchema)]
pub struct CreateChannel {
    /// `line`, `whatsapp`, `messenger` or `sms` (Twilio).
    #[schema(example = "whatsapp")]
    pub kind: String,
    #[schema(example = "さくら内科 WhatsApp")]
    pub name: String,
    /// Kind-specific: `LineCredentials`, `WhatsAppCredentials`, `MessengerCredentials` or
    /// `TwilioCredentials`. Secrets are stored encrypted and never returned; the phone number
    /// ids, pages and numbers a channel serves are kept in clear for webhook routing.
    #[schema(value_type = Object)]
    pub credentials: Option<serde_json::Value>,
    /// The provider's API base, to point a channel at a sandbox. Defaults: LINE
    /// `https://api.line.me`, WhatsApp and Messenger `https://graph.facebook.com/v23.0` (the Graph
    /// version is part of the base), Twilio `https://api.twilio.com`. Must be https on a public
    /// address (no private, loopback or link-local host, also after DNS), else
    /// `outbound_address_refused`, unless the server sets `[outbound] allow_private_addresses`.
    pub api_base_url: Option<String>,
    /// LINE only: defaults to `https://api-data.line.me` (content downloads). Same rule as
    /// `api_base_url`.
    pub api_data_base_url: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct CreatedChannel {
    pub id: String,
    pub kind: String,
    pub name: String,
    /// Paste this into the provider's webhook setting.
    pub webhook_url: String,
}

#[derive(Serialize, ToSchema)]
pub struct ChannelOut {
    pub id: String,
    pub kind: String,
    pub name: String,
    pub webhook_url: String,
    pub api_base_url: String,
    /// RFC 3339 UTC.
    pub created_at: String,
}

#[derive(Serialize, ToSchema)]
pub struct ChannelPage {
    pub items: Vec<ChannelOut>,
    /// Pass as `cursor` for the next page; null on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListChannels {
    /// 1–100, default 50.
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

fn unprocessable(code: Code, message: &str) -> ApiError {
    Refusal::new(code).detail(message).into()
}

/// An http(s) URL without credentials, query or fragment, stored without a trailing slash.
pub(crate) fn base_url(
    given: Option<&str>,
    default: &str,
    field: &str,
) -> Result<String, ApiError> {
    let raw = given
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .unwrap_or(default);
    let bad = || {
        unprocessable(
            Code::InvalidBaseUrl,
            &format!("{field} must be an http(s) URL without credentials."),
        )
    };
    let u = url::Url::parse(raw).map_err(|_| bad())?;
    let ok = matches!(u.scheme(), "http" | "https")
        && u.host_str().is_some_and(|h| !h.is_empty())
        && u.username().is_empty()
        && u.password().is_none()
        && u.query().is_none()
        && u.fragment().is_none();
    if !ok {
        return Err(bad());
    }
    Ok(raw.trim_end_matches('/').to_string())
}

fn webhook_url(state: &AppState, c: &Channel) -> String {
    format!(
        "{}/webhooks/{}/{}",
        state.settings.public_base(),
        c.kind,
        c.id
    )
}

/// Connect a channel.
///
/// Scope: `administer` (token scope `admin`). Validates the kind (`line` only for now; others
/// are `unsupported_channel_kind`), the credentials and the base URLs, stores the credentials
/// encrypted and answers with the webhook URL to configure at the provider.
#[utoipa::path(
    post,
    path = "/api/v1/channels",
    tag = "channels",
    params(IdempotencyKey),
    request_body = CreateChannel,
    responses(
        (status = 201, description = "Connected", body = CreatedChannel),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "The token lacks `administer`", body = ErrorBody),
        (status = 422, description = "`unsupported_channel_kind`, `invalid_channel_name`, `invalid_credentials`, `invalid_base_url`, `outbound_address_refused` (a base URL on a private, loopback or otherwise non-public address, or plain http), `invalid_request`", body = ErrorBody),
    )
)]
pub async fn create(
    State(state): State<AppState>,
    auth: ApiAuth,
    ip: ClientIp,
    ApiJson(body): ApiJson<CreateChannel>,
) -> Result<(StatusCode, Json<CreatedChannel>), ApiError> {
    auth.require(Permission::Administer)?;
    let Some(kind) = ChannelKind::parse(&body.kind) else {
        let kinds: Vec<&str> = ChannelKind::ALL.iter().map(|k| k.as_str()).collect();
        return Err(unprocessable(
            Code::UnsupportedChannelKind,
            &format!("kind must be one of {}.", kinds.join(", ")),
        ));
    };
    let name = body.name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(unprocessable(
            Code::InvalidChannelName,
            "name must be 1 to 100 characters.",
        ));
    }
    let setup = channel_setup::prepare(kind, body.credentials)??;
    let api_base = base_url(
        body.api_base_url.as_deref(),
        setup.default_api_base,
        "api_base_url",
    )?;
    // Only for a provider with a separate content host; ignored otherwise.
    let data_base = match setup.default_data_api_base {
        Some(default) => Some(base_url(
            body.api_data_base_url.as_deref(),
            default,
            "api_data_base_url",
        )?),
        None => None,
    };
    let refused = |field: &str, r: Refused| {
        unprocessable(
            Code::OutboundAddressRefused,
            &format!("{field} refused: {r}."),
        )
    };
    channel_setup::check_api_base(&state.settings, body.api_base_url.as_deref(), &api_base)
        .await
        .map_err(|r| refused("api_base_url", r))?;
    if let Some(data_base) = &data_base {
        let typed = body.api_data_base_url.as_deref();
        channel_setup::check_api_base(&state.settings, typed, data_base)
            .await
            .map_err(|r| refused("api_data_base_url", r))?;
    }
    let credentials_enc = state.cipher.encrypt_json(&setup.creds);
    let settings = serde_json::to_string(&setup.endpoints).map_err(anyhow::Error::from)?;

    let now = state.now_ms();
    let mut tx = state.db.begin().await?;
    let id = channels::create(
        tx.conn(),
        NewChannel {
            clinic_id: &auth.clinic,
            kind: kind.as_str(),
            name,
            credentials_enc: &credentials_enc,
            api_base_url: &api_base,
            api_data_base_url: data_base.as_deref(),
            settings: &settings,
        },
        now,
    )
    .await?;
    let event = Event {
        action: "api.channel.create",
        subject_type: "channel",
        subject_ids: &[id.as_str()],
    };
    audit_change(&mut tx, &state, &auth, &ip, event).await?;
    tx.commit().await?;

    let webhook_url = format!("{}/webhooks/{kind}/{id}", state.settings.public_base());
    let out = CreatedChannel {
        id: id.into_string(),
        kind: kind.as_str().into(),
        name: name.into(),
        webhook_url,
    };
    Ok((StatusCode::CREATED, Json(out)))
}

/// List the clinic's channels (oldest first).
///
/// Scope: `administer` (token scope `admin`). Never includes credentials.
#[utoipa::path(
    get,
    path = "/api/v1/channels",
    tag = "channels",
    params(ListChannels),
    responses(
        (status = 200, description = "A page of channels", body = ChannelPage),
        (status = 401, description = "Missing or invalid token", body = ErrorBody),
        (status = 403, description = "The token lacks `administer`", body = ErrorBody),
        (status = 422, description = "`invalid_limit`, `invalid_cursor`", body = ErrorBody),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    auth: ApiAuth,
    ApiQuery(q): ApiQuery<ListChannels>,
) -> Result<Json<ChannelPage>, ApiError> {
    auth.require(Permission::Administer)?;
    let limit = page_limit(q.limit)? as usize;
    let after: Option<String> = decode_cursor(q.cursor.as_deref())?;
    let mut conn = read_conn(&state).await?;
    // A clinic has a handful of channels: page over the full list, keyed by id.
    let all = channels::list(&mut conn, &auth.clinic).await?;
    let mut rows: Vec<Channel> = all
        .into_iter()
        .filter(|c| after.as_deref().is_none_or(|a| c.id.as_str() > a))
        .take(limit + 1)
        .collect();
    let more = rows.len() > limit;
    rows.truncate(limit);
    let next_cursor = if more {
        rows.last().map(|c| encode_cursor(&c.id))
    } else {
        None
    };
    let items = rows
        .iter()
        .map(|c| ChannelOut {
            id: c.id.clone(),
            kind: c.kind.clone(),
            name: c.name.clone(),
            webhook_url: webhook_url(&state, c),
            api_base_url: c.api_base_url.clone(),
            created_at: rfc3339(c.created_at),
        })
        .collect();
    Ok(Json(ChannelPage { items, next_cursor }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_must_be_plain_http_or_https() {
        assert_eq!(
            base_url(None, "https://api.line.me", "x").ok().as_deref(),
            Some("https://api.line.me")
        );
        assert_eq!(
            base_url(Some("http://127.0.0.1:9/line/"), "https://api.line.me", "x")
                .ok()
                .as_deref(),
            Some("http://127.0.0.1:9/line")
        );
        assert!(base_url(Some("ftp://example.com"), "https://api.line.me", "x").is_err());
        assert!(base_url(
            Some("https://user:pw@example.com"),
            "https://api.line.me",
            "x"
        )
        .is_err());
        assert!(base_url(Some("not a url"), "https://api.line.me", "x").is_err());
    }
}
