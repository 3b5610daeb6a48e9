//! A source's public link (`/s/{source}`) opened on a phone: where to send the browser. With a
//! linked LINE Login channel, to LINE Login with a fresh `state`; otherwise to the prefilled
//! message (so a poster printed while the Login link existed still works once it is removed).
use anyhow::Context;
use sqlx::AnyConnection;
use tsunagu_channels::line::login;
use tsunagu_core::ChannelId;
use tsunagu_privacy::Cipher;
use tsunagu_store::Db;

use super::{callback_url, link, state_key, STATE_TTL_MS};
use crate::sources;

/// Where `/s/{source}` sends the browser, or `None` for a source that does not exist (or whose
/// channel has neither a Login link nor a public address).
pub async fn begin(
    db: &Db,
    cipher: &Cipher,
    source_id: &str,
    public_base: &str,
    now_ms: i64,
) -> anyhow::Result<Option<String>> {
    let mut tx = db.begin().await?;
    let Some((clinic, source)) = sources::by_public_id(tx.conn(), source_id).await? else {
        return Ok(None);
    };
    let channel_id = ChannelId::from_db(source.channel_id.clone());
    let channel = tsunagu_store::channels::by_id(tx.conn(), &clinic, &channel_id).await?;
    let Some(channel) = channel.filter(|c| c.enabled != 0) else {
        return Ok(None);
    };
    let linked = match channel.kind.as_str() {
        "line" => link::get(tx.conn(), cipher, &clinic, &channel.id).await?,
        _ => None,
    };
    let Some(link) = linked else {
        // No Login link: the prefilled message, as the QR code would hold.
        let address = sources::address(tx.conn(), &clinic, &channel.id).await?;
        let text = sources::prefilled_text(&source.code);
        return Ok(address.and_then(|a| sources::chat_link(&channel.kind, &a, &text)));
    };
    forget_expired(tx.conn(), now_ms).await?;
    let state = random_token();
    let nonce = random_token();
    sqlx::query(
        "INSERT INTO line_login_states (id, clinic_id, channel_id, source_id, nonce, created_at, expires_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(state_key(&state))
    .bind(clinic.as_str())
    .bind(&channel.id)
    .bind(&source.id)
    .bind(&nonce)
    .bind(now_ms)
    .bind(now_ms + STATE_TTL_MS)
    .execute(tx.conn())
    .await
    .context("storing a LINE Login state")?;
    tx.commit().await?;
    Ok(Some(login::authorize_url(
        &login::access_base(&channel.api_base_url),
        &link.login_channel_id,
        &callback_url(public_base),
        &state,
        &nonce,
    )))
}

/// 256 random bits as 64 hex characters (two v4 UUIDs: 244 of them random).
fn random_token() -> String {
    let (a, b) = (uuid::Uuid::new_v4(), uuid::Uuid::new_v4());
    format!("{}{}", a.simple(), b.simple())
}

/// States a day past their expiry are of no use, not even to tell a late reload it is late.
async fn forget_expired(conn: &mut AnyConnection, now_ms: i64) -> anyhow::Result<()> {
    sqlx::query("DELETE FROM line_login_states WHERE expires_at < $1")
        .bind(now_ms - 86_400_000)
        .execute(conn)
        .await
        .context("forgetting old LINE Login states")?;
    Ok(())
}
