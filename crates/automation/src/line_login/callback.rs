//! LINE Login's callback (`/line-login/callback?code&state&friendship_status_changed`, or
//! `?error=access_denied&state` when the patient cancelled): the state checked, the code
//! exchanged, the ID token checked, then the source attributed to that LINE user on the linked
//! channel. Nothing changes unless all of that holds; a reload or replay of a used state
//! changes nothing either.
use anyhow::Context;
use serde::Deserialize;
use sqlx::AnyConnection;
use tsunagu_channels::line::login;
use tsunagu_core::{ChannelId, ClinicId};
use tsunagu_privacy::Cipher;
use tsunagu_store::conversations::{self, NewConversation};
use tsunagu_store::{patients, Db};

use super::{callback_url, link, state, state_key, welcome};
use crate::lines::{self, Why};
use crate::sources;

/// The callback's query, as LINE sends it.
#[derive(Debug, Default, Deserialize)]
pub struct Query {
    pub state: Option<String>,
    pub code: Option<String>,
    /// `access_denied` when the patient cancelled, or another OAuth error.
    pub error: Option<String>,
    /// "true" when the patient became a friend during this login.
    pub friendship_status_changed: Option<String>,
}

/// Why the callback did nothing (the page says it calmly; nothing was changed).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refused {
    /// The patient cancelled on LINE's page.
    Cancelled,
    /// No such state: forged, or from another server.
    UnknownState,
    /// Started more than ten minutes ago.
    Expired,
    /// LINE would not exchange the code, or did not answer.
    Token,
    /// The ID token did not check out.
    IdToken,
}

impl Refused {
    /// For the page's words (`line_login.refused.<code>`) and the log.
    pub fn code(self) -> &'static str {
        match self {
            Refused::Cancelled => "cancelled",
            Refused::UnknownState => "unknown_state",
            Refused::Expired => "expired",
            Refused::Token => "token",
            Refused::IdToken => "id_token",
        }
    }
}

/// What the callback did.
#[derive(Debug, PartialEq, Eq)]
pub enum Done {
    /// Attributed now (the source's welcome sent or owed).
    Arrived,
    /// This login was completed before (a reload): nothing more.
    AlreadyDone,
}

/// A checked state: its source, clinic and channel, nonce and expiry.
struct State {
    clinic: ClinicId,
    channel_id: String,
    source_id: String,
    nonce: String,
    expires_at: i64,
}

/// Completes a login. `Err` only for our own failures (the database); LINE's and the patient's
/// are `Ok(Err(Refused))`.
pub async fn complete(
    db: &Db,
    cipher: &Cipher,
    http: &reqwest::Client,
    public_base: &str,
    q: &Query,
    now_ms: i64,
) -> anyhow::Result<Result<Done, Refused>> {
    if q.error.is_some() {
        return Ok(Err(Refused::Cancelled));
    }
    let Some(raw) = q
        .state
        .as_deref()
        .filter(|s| !s.is_empty() && s.len() <= 256)
    else {
        return Ok(Err(Refused::UnknownState));
    };
    let key = state_key(raw);
    let (st, link, channel) = {
        let mut conn = db.pool().acquire().await?;
        let Some(checked) = check(&mut conn, cipher, raw).await? else {
            return Ok(Err(Refused::UnknownState));
        };
        let used: Option<i64> = sqlx::query_scalar("SELECT 1 FROM line_login_states WHERE id = $1")
            .bind(&key)
            .fetch_optional(&mut *conn)
            .await
            .context("reading whether a LINE Login state was used")?;
        if used.is_some() {
            return Ok(Ok(Done::AlreadyDone));
        }
        checked
    };
    if st.expires_at <= now_ms {
        return Ok(Err(Refused::Expired));
    }
    let Some(code) = q.code.as_deref().filter(|c| !c.is_empty()) else {
        return Ok(Err(Refused::Token));
    };
    let clinic = st.clinic.clone();
    let redirect = callback_url(public_base);
    let id_token = match login::exchange_code(
        http,
        &channel.api_base_url,
        &link.login_channel_id,
        &link.secret,
        code,
        &redirect,
    )
    .await
    {
        Ok(t) => t,
        Err(e) => {
            tracing::warn!(error = %e, channel = %channel.id, "LINE Login code exchange failed");
            return Ok(Err(Refused::Token));
        }
    };
    let claims = match login::verify_id_token(
        &id_token,
        &link.login_channel_id,
        &link.secret,
        &st.nonce,
        now_ms / 1000,
    ) {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!(error = %e, channel = %channel.id, "LINE Login ID token refused");
            return Ok(Err(Refused::IdToken));
        }
    };
    let friend_added = q.friendship_status_changed.as_deref() == Some("true");
    let arrival = {
        let mut tx = db.begin().await?;
        let arrived = arrive(tx.conn(), &st, &key, &claims, friend_added, now_ms).await?;
        if arrived.is_none() {
            return Ok(Ok(Done::AlreadyDone)); // a concurrent callback of the same state won
        }
        tx.commit().await?;
        arrived
    };
    // A friend already (the follow webhook came first, or long ago): the welcome goes now;
    // otherwise the follow's dispatch sends it.
    if let Some(identity) = arrival.flatten() {
        welcome::push_if_friend(db, &clinic, &identity, now_ms).await?;
    }
    Ok(Ok(Done::Arrived))
}

/// The state's source (of any clinic: the state carries no clinic), its LINE channel and that
/// channel's Login link, if the link's secret signed the state. `None` for anything else.
async fn check(
    conn: &mut AnyConnection,
    cipher: &Cipher,
    raw: &str,
) -> anyhow::Result<Option<(State, link::Link, tsunagu_store::channels::Channel)>> {
    let Some(source_id) = state::source_of(raw) else {
        return Ok(None);
    };
    let Some((clinic, source)) = sources::by_public_id(&mut *conn, source_id).await? else {
        return Ok(None);
    };
    let channel_id = ChannelId::from_db(source.channel_id.clone());
    let Some(channel) = tsunagu_store::channels::by_id(&mut *conn, &clinic, &channel_id).await?
    else {
        return Ok(None);
    };
    let Some(link) = link::get(&mut *conn, cipher, &clinic, &channel.id).await? else {
        return Ok(None);
    };
    let Some(signed) = state::verify(&link.secret, raw).filter(|s| s.source_id == source.id) else {
        return Ok(None);
    };
    let st = State {
        clinic,
        channel_id: channel.id.clone(),
        source_id: source.id,
        nonce: signed.nonce,
        expires_at: signed.expires_at,
    };
    Ok(Some((st, link, channel)))
}

/// In the caller's transaction: the state recorded as used, the identity found or created (with a
/// provisional patient, as ingest does), the conversation, the scan, the tag, the line for
/// staff and the welcome owed. `None` when the state was claimed by another; `Some(identity)`
/// when a welcome is owed.
async fn arrive(
    conn: &mut AnyConnection,
    st: &State,
    key: &str,
    claims: &login::IdClaims,
    friend_added: bool,
    now_ms: i64,
) -> anyhow::Result<Option<Option<String>>> {
    let clinic = &st.clinic;
    sqlx::query("DELETE FROM line_login_states WHERE expires_at < $1")
        .bind(now_ms - 86_400_000)
        .execute(&mut *conn)
        .await
        .context("forgetting old LINE Login states")?;
    let claimed = sqlx::query(
        "INSERT INTO line_login_states (id, clinic_id, channel_id, source_id, used_at, expires_at, friend_added)
         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO NOTHING",
    )
    .bind(key)
    .bind(clinic.as_str())
    .bind(&st.channel_id)
    .bind(&st.source_id)
    .bind(now_ms)
    .bind(st.expires_at)
    .bind(i64::from(friend_added))
    .execute(&mut *conn)
    .await
    .context("recording a used LINE Login state")?;
    if claimed.rows_affected() != 1 {
        return Ok(None);
    }
    let Some(source) = sources::get(&mut *conn, clinic, &st.source_id).await? else {
        return Ok(Some(None)); // deleted meanwhile: the login is used, nothing to count
    };
    let channel = ChannelId::from_db(st.channel_id.clone());
    let identity = match patients::identity(&mut *conn, &channel, &claims.sub).await? {
        Some(i) => i,
        None => {
            let name = if claims.name.trim().is_empty() {
                "LINE"
            } else {
                claims.name.trim()
            };
            patients::create_provisional(&mut *conn, clinic, &channel, &claims.sub, name, now_ms)
                .await?
        }
    };
    let new = NewConversation {
        clinic_id: clinic,
        channel_id: &channel,
        kind: "direct",
        thread_key: &claims.sub,
        patient_id: Some(&identity.patient_id),
        channel_identity_id: Some(&identity.id),
        title: None,
    };
    let conv = conversations::find_or_create(&mut *conn, new, now_ms).await?;
    let scan_key = format!("login:{key}");
    let patient = identity.patient_id.clone();
    let Some(arrival) =
        sources::arrive(&mut *conn, clinic, source, &patient, &scan_key, now_ms).await?
    else {
        return Ok(Some(None));
    };
    let name = &arrival.source.name;
    lines::record(&mut *conn, clinic, &conv, Why::Source { name }, now_ms).await?;
    if !arrival.welcomed() {
        return Ok(Some(None));
    }
    welcome::owe(
        &mut *conn,
        clinic,
        key,
        &identity.id,
        &arrival.source.id,
        now_ms,
    )
    .await?;
    Ok(Some(Some(identity.id)))
}
