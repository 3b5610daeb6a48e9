//! LINE Login, for the add-friend option (LINE doc: "LINE Login › Add a LINE Official Account as
//! a friend when logged in (add friend option)", "Integrating LINE Login with your web app"):
//! the authorization URL with `bot_prompt`, the code exchanged at the token endpoint, and the ID
//! token (a JWT signed HS256 with the Login channel secret) checked here, so the user id (`sub`)
//! can be trusted. Base URLs are the channel's, so tests and the demo point at the sandbox.
use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64URL;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde::Deserialize;
use sha2::Sha256;

/// LINE's issuer: the `iss` of every ID token.
pub const ISSUER: &str = "https://access.line.me";
const REAL_API: &str = "https://api.line.me";
const TIMEOUT: Duration = Duration::from_secs(10);

/// Where the authorization page lives for a channel whose Messaging API is at `api_base`:
/// LINE's own `access.line.me` for the real API, else the same base (the sandbox serves both).
pub fn access_base(api_base: &str) -> String {
    let api_base = api_base.trim_end_matches('/');
    if api_base == REAL_API {
        ISSUER.to_string()
    } else {
        api_base.to_string()
    }
}

/// RFC 3986 percent-encoding of everything but the unreserved characters.
fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

/// LINE doc: "Integrating LINE Login with your web app › Making an authorization request":
/// `GET {access}/oauth2/v2.1/authorize?response_type=code&client_id&redirect_uri&state&scope`,
/// with `nonce` (echoed in the ID token) and `bot_prompt=aggressive` (the add-friend screen
/// opens after the consent screen).
pub fn authorize_url(
    access_base: &str,
    client_id: &str,
    redirect_uri: &str,
    state: &str,
    nonce: &str,
) -> String {
    format!(
        "{}/oauth2/v2.1/authorize?response_type=code&client_id={}&redirect_uri={}&state={}&scope=openid%20profile&nonce={}&bot_prompt=aggressive",
        access_base.trim_end_matches('/'),
        enc(client_id),
        enc(redirect_uri),
        enc(state),
        enc(nonce)
    )
}

/// What the token endpoint answers (only what we use; the access token is dropped).
#[derive(Deserialize)]
struct TokenAnswer {
    id_token: Option<String>,
}

/// Why the code could not be exchanged (no detail from LINE is kept: it may echo the code).
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ExchangeError {
    #[error("LINE Login's token endpoint did not answer")]
    Unreachable,
    #[error("LINE Login's token endpoint refused the code (HTTP {0})")]
    Refused(u16),
    #[error("LINE Login's token endpoint answered without an ID token")]
    NoIdToken,
}

/// LINE doc: "LINE Login v2.1 API reference › Issue access token": `POST {api}/oauth2/v2.1/token`,
/// form `grant_type=authorization_code`, `code`, `redirect_uri`, `client_id`, `client_secret`.
/// The ID token, still to be checked with [`verify_id_token`].
pub async fn exchange_code(
    http: &reqwest::Client,
    api_base: &str,
    client_id: &str,
    client_secret: &str,
    code: &str,
    redirect_uri: &str,
) -> Result<String, ExchangeError> {
    let url = format!("{}/oauth2/v2.1/token", api_base.trim_end_matches('/'));
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", redirect_uri),
        ("client_id", client_id),
        ("client_secret", client_secret),
    ];
    let res = http
        .post(url)
        .form(&form)
        .timeout(TIMEOUT)
        .send()
        .await
        .map_err(|_| ExchangeError::Unreachable)?;
    let status = res.status();
    if !status.is_success() {
        return Err(ExchangeError::Refused(status.as_u16()));
    }
    let answer: TokenAnswer = res.json().await.map_err(|_| ExchangeError::NoIdToken)?;
    answer.id_token.ok_or(ExchangeError::NoIdToken)
}

/// The claims of a checked ID token that we use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdClaims {
    /// The LINE user id (`U…`), the same as the Messaging API's when both channels are of one
    /// provider.
    pub sub: String,
    /// The display name (`profile` scope), '' when absent.
    pub name: String,
}

/// Why an ID token is not believed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum IdTokenError {
    #[error("the ID token is not a JWT")]
    Malformed,
    #[error("the ID token is not signed HS256")]
    Algorithm,
    #[error("the ID token's signature does not match the channel secret")]
    Signature,
    #[error("the ID token was issued by someone else")]
    Issuer,
    #[error("the ID token is for another channel")]
    Audience,
    #[error("the ID token has expired")]
    Expired,
    #[error("the ID token's nonce is not the one sent")]
    Nonce,
    #[error("the ID token names no LINE user")]
    Subject,
}

#[derive(Deserialize)]
struct Header {
    alg: String,
}

#[derive(Deserialize)]
struct Claims {
    iss: Option<String>,
    sub: Option<String>,
    aud: Option<String>,
    exp: Option<i64>,
    nonce: Option<String>,
    #[serde(default)]
    name: Option<String>,
}

/// LINE doc: "Verify ID token" (the web app flow's token is HS256 with the channel secret):
/// signature in constant time first, then `iss`, `aud` = the Login channel id, `exp` after
/// `now_s` (seconds), `nonce` = the one sent, a `U…` subject.
pub fn verify_id_token(
    token: &str,
    channel_id: &str,
    channel_secret: &str,
    nonce: &str,
    now_s: i64,
) -> Result<IdClaims, IdTokenError> {
    let mut parts = token.split('.');
    let (Some(h), Some(p), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(IdTokenError::Malformed);
    };
    let header: Header = B64URL
        .decode(h)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or(IdTokenError::Malformed)?;
    if header.alg != "HS256" {
        return Err(IdTokenError::Algorithm);
    }
    let sig = B64URL.decode(s).map_err(|_| IdTokenError::Malformed)?;
    if channel_secret.is_empty() {
        return Err(IdTokenError::Signature);
    }
    let mut mac = Hmac::<Sha256>::new_from_slice(channel_secret.as_bytes())
        .map_err(|_| IdTokenError::Signature)?;
    mac.update(format!("{h}.{p}").as_bytes());
    mac.verify_slice(&sig)
        .map_err(|_| IdTokenError::Signature)?;
    let claims: Claims = B64URL
        .decode(p)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or(IdTokenError::Malformed)?;
    if claims.iss.as_deref() != Some(ISSUER) {
        return Err(IdTokenError::Issuer);
    }
    if claims.aud.as_deref() != Some(channel_id) || channel_id.is_empty() {
        return Err(IdTokenError::Audience);
    }
    if claims.exp.is_none_or(|exp| exp <= now_s) {
        return Err(IdTokenError::Expired);
    }
    if claims.nonce.as_deref() != Some(nonce) {
        return Err(IdTokenError::Nonce);
    }
    let sub = claims.sub.unwrap_or_default();
    if !(sub.len() == 33 && sub.starts_with('U') && sub[1..].bytes().all(|b| b.is_ascii_hexdigit()))
    {
        return Err(IdTokenError::Subject);
    }
    Ok(IdClaims {
        sub,
        name: claims.name.unwrap_or_default(),
    })
}

/// An HS256 JWT of `claims` signed with `secret`, as LINE issues them (the sandbox's issuer and
/// the tests use it).
pub fn sign_id_token(claims: &serde_json::Value, secret: &str) -> String {
    let h = B64URL.encode(br#"{"typ":"JWT","alg":"HS256"}"#);
    let p = B64URL.encode(claims.to_string().as_bytes());
    let sig = match Hmac::<Sha256>::new_from_slice(secret.as_bytes()) {
        Ok(mut mac) => {
            mac.update(format!("{h}.{p}").as_bytes());
            B64URL.encode(mac.finalize().into_bytes())
        }
        Err(_) => String::new(),
    };
    format!("{h}.{p}.{sig}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const SECRET: &str = "login-secret";
    const USER: &str = "U4af4980629a1b2c3d4e5f60718293a4b";

    fn claims() -> serde_json::Value {
        json!({"iss": ISSUER, "sub": USER, "aud": "1660000000", "exp": 2_000, "iat": 1_000,
               "nonce": "n1", "name": "山田 花子"})
    }

    fn check(token: &str) -> Result<IdClaims, IdTokenError> {
        verify_id_token(token, "1660000000", SECRET, "n1", 1_500)
    }

    #[test]
    fn a_token_line_signed_for_this_channel_names_the_user() {
        let got = check(&sign_id_token(&claims(), SECRET));
        assert_eq!(
            got,
            Ok(IdClaims {
                sub: USER.into(),
                name: "山田 花子".into()
            })
        );
    }

    #[test]
    fn a_token_signed_with_another_secret_is_refused() {
        let token = sign_id_token(&claims(), "someone-else");
        assert_eq!(check(&token), Err(IdTokenError::Signature));
    }

    #[test]
    fn a_changed_payload_breaks_the_signature() {
        let token = sign_id_token(&claims(), SECRET);
        let mut other = claims();
        other["sub"] = json!("U00000000000000000000000000000000");
        let forged = sign_id_token(&other, "x");
        let parts: Vec<&str> = token.split('.').collect();
        let forged_parts: Vec<&str> = forged.split('.').collect();
        let spliced = format!("{}.{}.{}", parts[0], forged_parts[1], parts[2]);
        assert_eq!(check(&spliced), Err(IdTokenError::Signature));
    }

    #[test]
    fn another_channel_issuer_nonce_or_an_expired_token_is_refused() {
        let with = |k: &str, v: serde_json::Value| {
            let mut c = claims();
            c[k] = v;
            check(&sign_id_token(&c, SECRET))
        };
        assert_eq!(with("aud", json!("1")), Err(IdTokenError::Audience));
        assert_eq!(
            with("iss", json!("https://evil")),
            Err(IdTokenError::Issuer)
        );
        assert_eq!(with("nonce", json!("n2")), Err(IdTokenError::Nonce));
        assert_eq!(with("exp", json!(1_500)), Err(IdTokenError::Expired));
        assert_eq!(with("sub", json!("bob")), Err(IdTokenError::Subject));
    }

    #[test]
    fn an_unsigned_token_is_refused() {
        let h = B64URL.encode(br#"{"alg":"none"}"#);
        let p = B64URL.encode(claims().to_string());
        assert_eq!(check(&format!("{h}.{p}.")), Err(IdTokenError::Algorithm));
        assert_eq!(check("nonsense"), Err(IdTokenError::Malformed));
    }

    #[test]
    fn the_authorize_url_asks_for_the_add_friend_screen() {
        let url = authorize_url(
            &access_base("https://api.line.me"),
            "1660000000",
            "https://clinic.example/line-login/callback",
            "st",
            "no",
        );
        assert!(url.starts_with("https://access.line.me/oauth2/v2.1/authorize?response_type=code&client_id=1660000000&redirect_uri=https%3A%2F%2Fclinic.example%2Fline-login%2Fcallback&state=st&scope=openid%20profile&nonce=no"), "{url}");
        assert!(url.ends_with("&bot_prompt=aggressive"));
        assert_eq!(access_base("http://127.0.0.1:9/"), "http://127.0.0.1:9");
    }
}
