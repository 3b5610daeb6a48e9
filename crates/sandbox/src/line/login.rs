//! LINE Login, as far as the add-friend option needs it (LINE doc: "Integrating LINE Login with
//! your web app", "Add a LINE Official Account as a friend when logged in", "LINE Login v2.1 API
//! reference › Issue access token"):
//! - `GET /oauth2/v2.1/authorize` checks `response_type=code`, a known `client_id`, `state`, an
//!   `openid` scope and a callback URL; with a simulated user set ([`LineSandbox::set_login_user`])
//!   it answers at once with a redirect, as if the user agreed, else a small consent page. With
//!   `bot_prompt` and the option on (default) a user who is not a friend of the linked official
//!   account becomes one: the follow webhook goes (signed as LINE does) before the redirect, or
//!   is held back for a test ([`LineSandbox::hold_login_follows`]) — and the redirect carries
//!   `friendship_status_changed`;
//! - `POST /oauth2/v2.1/token` exchanges a code once (ten minutes, same `redirect_uri`, the
//!   channel's id and secret) for an access token and an ID token signed HS256 with the Login
//!   channel's secret (`iss` https://access.line.me, `aud` the channel id, `exp`, `nonce`,
//!   `name`).
use std::collections::HashMap;

use axum::extract::{Query, State as AxumState};
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use base64::Engine as _;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sha2::Sha256;

use super::{ids, LineSandbox, UserProfile};

const ISSUER: &str = "https://access.line.me";
const CODE_LIFETIME_SECS: i64 = 600;

/// A LINE Login channel linked to one of the sandbox's official accounts.
#[derive(Clone, Debug, Default)]
pub struct LoginChannelConfig {
    /// The console's channel id (`client_id`).
    pub channel_id: String,
    pub channel_secret: String,
    /// The linked official account, by its access token (or bot user id).
    pub linked_access_token: String,
}

#[derive(Default)]
pub(crate) struct LoginState {
    pub channels: HashMap<String, LoginChannelConfig>,
    pub codes: HashMap<String, IssuedCode>,
    /// Who is logged in to LINE on the test's "phone": authorize answers at once as them.
    pub user: Option<UserProfile>,
    /// Whether the user leaves "add friend" on (LINE's default) on the add-friend screen.
    pub declines_friend: bool,
    /// Follow webhooks held back instead of sent before the redirect: (access token, event).
    pub hold_follows: bool,
    pub held: Vec<(String, Value)>,
    /// A fault: ID tokens signed with this secret instead of the channel's.
    pub forged_secret: Option<String>,
}

pub(crate) struct IssuedCode {
    client_id: String,
    redirect_uri: String,
    nonce: Option<String>,
    user: UserProfile,
    issued_at: DateTime<Utc>,
    used: bool,
}

impl LineSandbox {
    pub fn add_login_channel(&self, config: LoginChannelConfig) {
        self.lock()
            .login
            .channels
            .insert(config.channel_id.clone(), config);
    }

    /// The user the authorize endpoint logs in at once (`None`: it shows its consent page).
    pub fn set_login_user(&self, user: Option<UserProfile>) {
        self.lock().login.user = user;
    }

    /// The user turns "add friend" off on LINE's screen (`true`) or leaves it on.
    pub fn login_declines_friend(&self, declines: bool) {
        self.lock().login.declines_friend = declines;
    }

    /// Hold the follow webhooks a login causes until [`release_login_follows`](Self::release_login_follows)
    /// (a test of the follow arriving after the callback).
    pub fn hold_login_follows(&self, hold: bool) {
        self.lock().login.hold_follows = hold;
    }

    /// Sends the held follow webhooks; the webhooks' statuses.
    pub async fn release_login_follows(&self) -> anyhow::Result<Vec<u16>> {
        let held = std::mem::take(&mut self.lock().login.held);
        let mut out = Vec::new();
        for (token, event) in held {
            out.push(self.send_event(&token, event).await?);
        }
        Ok(out)
    }

    /// A fault: sign the ID tokens the token endpoint issues with `secret` (a bad signature for
    /// the client), or with the channel's own again (`None`).
    pub fn forge_login_id_tokens(&self, secret: Option<&str>) {
        self.lock().login.forged_secret = secret.map(str::to_owned);
    }

    /// How many codes were exchanged (refused tries included).
    pub fn login_codes_issued(&self) -> usize {
        self.lock().login.codes.len()
    }
}

pub(crate) fn routes() -> Router<LineSandbox> {
    Router::new()
        .route("/oauth2/v2.1/authorize", get(authorize))
        .route("/oauth2/v2.1/token", post(token))
}

fn bad(status: StatusCode, error: &str, description: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        json!({ "error": error, "error_description": description }).to_string(),
    )
        .into_response()
}

fn enc(s: &str) -> String {
    serde_urlencoded::to_string([("", s)])
        .map(|s| s.trim_start_matches('=').to_string())
        .unwrap_or_default()
}

fn redirect(to: &str) -> Response {
    (StatusCode::FOUND, [(header::LOCATION, to.to_string())]).into_response()
}

async fn authorize(
    AxumState(sb): AxumState<LineSandbox>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let get = |k: &str| q.get(k).map(String::as_str).unwrap_or("");
    let (client_id, redirect_uri, state) = (get("client_id"), get("redirect_uri"), get("state"));
    if get("response_type") != "code" || state.is_empty() || redirect_uri.is_empty() {
        return bad(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "response_type, state and redirect_uri are required",
        );
    }
    if !get("scope").split(' ').any(|s| s == "openid") {
        return bad(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            "openid is required for an ID token",
        );
    }
    let (linked, user, declines, hold) = {
        let st = sb.lock();
        let Some(ch) = st.login.channels.get(client_id) else {
            return bad(
                StatusCode::BAD_REQUEST,
                "invalid_client",
                "unknown client_id",
            );
        };
        (
            ch.linked_access_token.clone(),
            st.login.user.clone(),
            st.login.declines_friend,
            st.login.hold_follows,
        )
    };
    if get("cancel") == "1" {
        let to = format!("{redirect_uri}?error=access_denied&error_description=The+resource+owner+denied+the+request.&state={}", enc(state));
        return redirect(&to);
    }
    let user = match (user, get("as")) {
        (Some(u), _) => u,
        (None, "new") => UserProfile {
            user_id: ids::user_id(),
            display_name: "LINE 太郎".into(),
            ..Default::default()
        },
        (None, _) => return consent_page(&q),
    };
    // The add-friend screen (bot_prompt): a user who is not a friend becomes one.
    let mut friendship_changed = false;
    if !get("bot_prompt").is_empty() && !declines {
        let token = sb.lock().resolve(&linked);
        if let Some(token) = token {
            let is_friend = {
                let st = sb.lock();
                st.channels.get(&token).is_some_and(|c| {
                    c.users.iter().any(|u| u.user_id == user.user_id)
                        && !c.blocked.contains(&user.user_id)
                })
            };
            if !is_friend {
                friendship_changed = true;
                sb.with_channel(&token, |c| {
                    c.users.retain(|u| u.user_id != user.user_id);
                    c.users.push(user.clone());
                });
                let event = sb.follow(&user.user_id);
                if hold {
                    sb.lock().login.held.push((token, event));
                } else if let Err(e) = sb.send_event(&token, event).await {
                    tracing::warn!(error = %e, "sandbox LINE Login: the follow webhook failed");
                }
            }
        }
    }
    let code = ids::reply_token();
    let now = sb.now();
    sb.lock().login.codes.insert(
        code.clone(),
        IssuedCode {
            client_id: client_id.to_string(),
            redirect_uri: redirect_uri.to_string(),
            nonce: q.get("nonce").cloned(),
            user,
            issued_at: now,
            used: false,
        },
    );
    let to = format!(
        "{redirect_uri}?code={}&state={}&friendship_status_changed={friendship_changed}",
        enc(&code),
        enc(state)
    );
    redirect(&to)
}

/// The simulator's consent screen (no user set): agree as a new LINE user, or cancel.
fn consent_page(q: &HashMap<String, String>) -> Response {
    let query = serde_urlencoded::to_string(q).unwrap_or_default();
    let esc = |s: &str| {
        s.replace('&', "&amp;")
            .replace('"', "&quot;")
            .replace('<', "&lt;")
    };
    Html(format!(
        r#"<!doctype html><html lang="ja"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>LINEログイン（sandbox）</title></head>
<body style="font-family:sans-serif;max-width:24rem;margin:10vh auto;text-align:center">
<h1>LINEログイン（sandbox）</h1><p>このサービスにプロフィール情報の利用を許可し、公式アカウントを友だち追加します。</p>
<p><a href="?{q}&amp;as=new" data-testid="sandbox-login-allow">許可する</a></p>
<p><a href="?{q}&amp;cancel=1" data-testid="sandbox-login-cancel">キャンセル</a></p></body></html>"#,
        q = esc(&query)
    ))
    .into_response()
}

async fn token(
    AxumState(sb): AxumState<LineSandbox>,
    Form(f): Form<HashMap<String, String>>,
) -> Response {
    let get = |k: &str| f.get(k).map(String::as_str).unwrap_or("");
    if get("grant_type") != "authorization_code" {
        return bad(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "authorization_code only",
        );
    }
    let now = sb.now();
    let mut st = sb.lock();
    let Some(ch) = st.login.channels.get(get("client_id")).cloned() else {
        return bad(
            StatusCode::BAD_REQUEST,
            "invalid_client",
            "unknown client_id",
        );
    };
    if ch.channel_secret != get("client_secret") {
        return bad(
            StatusCode::BAD_REQUEST,
            "invalid_client",
            "invalid client_secret",
        );
    }
    let Some(code) = st.login.codes.get_mut(get("code")) else {
        return bad(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "invalid authorization code",
        );
    };
    let expired = (now - code.issued_at).num_seconds() > CODE_LIFETIME_SECS;
    if code.used
        || expired
        || code.client_id != ch.channel_id
        || code.redirect_uri != get("redirect_uri")
    {
        return bad(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "invalid authorization code",
        );
    }
    code.used = true;
    let iat = now.timestamp();
    let mut claims = json!({
        "iss": ISSUER, "sub": code.user.user_id, "aud": ch.channel_id,
        "exp": iat + 3600, "iat": iat, "amr": ["linesso"], "name": code.user.display_name,
    });
    if let Some(n) = &code.nonce {
        claims["nonce"] = json!(n);
    }
    if let Some(p) = &code.user.picture_url {
        claims["picture"] = json!(p);
    }
    let body = json!({
        "access_token": ids::reply_token(), "expires_in": 2_592_000, "id_token": sign_jwt(&claims, st.login.forged_secret.as_deref().unwrap_or(&ch.channel_secret)),
        "refresh_token": ids::reply_token(), "scope": "openid profile", "token_type": "Bearer",
    });
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

/// An HS256 JWT, as LINE signs ID tokens for web logins.
pub fn sign_jwt(claims: &Value, secret: &str) -> String {
    let h = B64URL.encode(br#"{"typ":"JWT","alg":"HS256"}"#);
    let p = B64URL.encode(claims.to_string());
    let sig = match Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(mut mac) => {
            mac.update(format!("{h}.{p}").as_bytes());
            B64URL.encode(mac.finalize().into_bytes())
        }
        Err(_) => String::new(),
    };
    format!("{h}.{p}.{sig}")
}
