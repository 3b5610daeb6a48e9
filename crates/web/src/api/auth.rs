//! Bearer-token authentication for `/api/v1`, the scope check, and the audit helpers every
//! handler uses. A token belongs to exactly one clinic: handlers take the clinic from here and
//! never from the request.
use axum::extract::FromRequestParts;
use axum::http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use axum::http::request::Parts;
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use tsunagu_accounts::tokens;
use tsunagu_core::{ClinicId, Permission, TokenId, TokenScope};
use tsunagu_privacy::audit::{self, Actor, AuditEntry};

use crate::client_ip::ClientIp;
use crate::{ApiError, AppState};

/// The authenticated token of this request.
#[derive(Clone, Debug)]
pub struct ApiAuth {
    pub token_id: TokenId,
    pub clinic: ClinicId,
    pub scopes: Vec<TokenScope>,
    /// The audit actor (`token:<id>`).
    pub actor: Actor,
}

impl ApiAuth {
    pub fn can(&self, p: Permission) -> bool {
        self.scopes.iter().any(|s| s.grants(p))
    }

    /// 403 `forbidden` unless one of the token's scopes grants `p`.
    pub fn require(&self, p: Permission) -> Result<(), ApiError> {
        if self.can(p) {
            Ok(())
        } else {
            Err(ApiError::forbidden())
        }
    }
}

/// The bearer value of an `Authorization` header (`Bearer tsu_…`, scheme case-insensitive).
fn bearer(parts: &Parts) -> Option<&str> {
    let value = parts.headers.get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

fn unauthorized() -> Response {
    let mut res = ApiError::unauthorized().into_response();
    res.headers_mut().insert(
        WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer realm=\"tsunagu\""),
    );
    res
}

impl FromRequestParts<AppState> for ApiAuth {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        // Already checked by the `Idempotent` wrapper (extensions are set only by our code).
        if let Some(auth) = parts.extensions.get::<ApiAuth>() {
            return Ok(auth.clone());
        }
        let Some(token) = bearer(parts) else {
            return Err(unauthorized());
        };
        match tokens::authenticate(&state.db, token, state.now_ms()).await {
            Ok(Some(row)) => Ok(ApiAuth {
                actor: Actor::Token(row.id.to_string()),
                token_id: row.id,
                clinic: row.clinic_id,
                scopes: row.scopes,
            }),
            Ok(None) => Err(unauthorized()),
            Err(e) => Err(ApiError::from(e).into_response()),
        }
    }
}

/// What an audit entry says, besides who and from where.
pub struct Event<'a> {
    pub action: &'a str,
    pub subject_type: &'a str,
    pub subject_ids: &'a [&'a str],
}

fn entry<'a>(auth: &'a ApiAuth, ip: Option<&'a str>, e: &Event<'a>) -> AuditEntry<'a> {
    AuditEntry {
        clinic_id: Some(&auth.clinic),
        actor: &auth.actor,
        action: e.action,
        subject_type: Some(e.subject_type),
        subject_ids: e.subject_ids,
        source_ip: ip,
    }
}

/// Records a read of patient data in its own transaction. When the trail cannot be written the
/// read fails: patient data never leaves without its audit row.
pub async fn audit_read(
    state: &AppState,
    auth: &ApiAuth,
    ip: &ClientIp,
    e: Event<'_>,
) -> Result<(), ApiError> {
    let ip = ip.as_string();
    audit::record_now(&state.db, entry(auth, ip.as_deref(), &e), state.now_ms()).await?;
    Ok(())
}

/// Records a change inside the transaction that made it, so both commit or neither does.
pub async fn audit_change(
    tx: &mut tsunagu_store::Tx,
    state: &AppState,
    auth: &ApiAuth,
    ip: &ClientIp,
    e: Event<'_>,
) -> anyhow::Result<()> {
    let ip = ip.as_string();
    audit::record(
        tx.conn(),
        state.db.backend(),
        entry(auth, ip.as_deref(), &e),
        state.now_ms(),
    )
    .await
}

/// One subject's change (its type and id), audited inside the transaction that made it.
pub async fn audit_one(
    tx: &mut tsunagu_store::Tx,
    state: &AppState,
    auth: &ApiAuth,
    ip: &ClientIp,
    action: &str,
    (subject_type, id): (&str, &str),
) -> Result<(), ApiError> {
    let event = Event {
        action,
        subject_type,
        subject_ids: &[id],
    };
    Ok(audit_change(tx, state, auth, ip, event).await?)
}

/// The trail entry for something already queued to send: failing the request then would invite
/// a retry that sends twice, so an entry that cannot be written is logged and the caller still
/// answers success.
pub async fn audit_queued(state: &AppState, auth: &ApiAuth, ip: &ClientIp, e: Event<'_>) {
    let recorded = async {
        let mut tx = state.db.begin().await?;
        audit_change(&mut tx, state, auth, ip, e).await?;
        tx.commit().await
    }
    .await;
    if let Err(err) = recorded {
        tracing::error!(error = %format!("{err:#}"), "a queued message could not be recorded in the trail");
    }
}
