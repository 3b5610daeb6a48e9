//! A source's public link (`/s/{source}`) opened on a phone: where to send the browser. With a
//! linked LINE Login channel, to LINE Login with a fresh `state`; otherwise to the prefilled
//! message (so a poster printed while the Login link existed still works once it is removed).
//! Nothing is written: the state is signed (`state`).
use tsunagu_channels::line::login;
use tsunagu_core::ChannelId;
use tsunagu_privacy::Cipher;
use tsunagu_store::Db;

use super::{callback_url, link, state, STATE_TTL_MS};
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
    let mut conn = db.pool().acquire().await?;
    let Some((clinic, source)) = sources::by_public_id(&mut conn, source_id).await? else {
        return Ok(None);
    };
    let channel_id = ChannelId::from_db(source.channel_id.clone());
    let channel = tsunagu_store::channels::by_id(&mut conn, &clinic, &channel_id).await?;
    let Some(channel) = channel.filter(|c| c.enabled != 0) else {
        return Ok(None);
    };
    let linked = match channel.kind.as_str() {
        "line" => link::get(&mut conn, cipher, &clinic, &channel.id).await?,
        _ => None,
    };
    let Some(link) = linked else {
        // No Login link: the prefilled message, as the QR code would hold.
        let address = sources::address(&mut conn, &clinic, &channel.id).await?;
        return Ok(address.and_then(|a| sources::chat_link(&channel.kind, &a, &source.code)));
    };
    // The state is signed, not stored: this public page writes nothing.
    let nonce = random_token();
    let signed = state::Signed {
        source_id: source.id.clone(),
        expires_at: now_ms + STATE_TTL_MS,
        nonce: nonce.clone(),
    };
    let state = state::sign(&link.secret, &signed);
    Ok(Some(login::authorize_url(
        &login::access_base(&channel.api_base_url),
        &link.login_channel_id,
        &callback_url(public_base),
        &state,
        &nonce,
    )))
}

/// The ID token's nonce: 122 random bits (the state's signature is what makes it unguessable).
fn random_token() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}
