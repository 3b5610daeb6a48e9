//! LINE Login's add-friend option for inflow sources (流入経路, issue 12 item 10): on LINE,
//! attribution uses LINE Login when the clinic links a LINE Login channel to its LINE channel,
//! and otherwise the prefilled first message (`sources::chat_link`).
//!
//! - `link`: the linked Login channel per LINE channel (its id and secret, the secret encrypted
//!   like channel credentials; table `line_login_links`, migration 0036);
//! - `visit`: a source's public link `/s/{source}` starts a login: a `state` (`state`: the
//!   source, ten minutes' expiry and the ID token's nonce, signed with the Login channel's
//!   secret; nothing stored until the callback records it as used) and the authorization URL
//!   with `bot_prompt=aggressive`;
//! - `callback`: the code exchanged, the ID token checked (`channels::line::login`), then the
//!   source attributed to that LINE user on the linked channel the way a code's message is
//!   (`sources::arrive`: scan keyed `login:<state>`, tag, counted once) with the same system line;
//! - `welcome`: the source's welcome owed, sent once the patient is a friend, by whichever of the
//!   callback and the follow webhook's dispatch claims it first.
pub mod callback;
pub mod link;
pub mod state;
pub mod visit;
pub mod welcome;

pub use link::Link;

/// How long a login started from a source's link may take.
pub const STATE_TTL_MS: i64 = 10 * 60 * 1000;

/// The path LINE Login sends the patient back to (registered as the Login channel's callback
/// URL: `{public base}{CALLBACK_PATH}`).
pub const CALLBACK_PATH: &str = "/line-login/callback";

/// `{public base}/line-login/callback`.
pub fn callback_url(public_base: &str) -> String {
    format!("{}{CALLBACK_PATH}", public_base.trim_end_matches('/'))
}

/// `{public base}/s/{source}`: what a source's QR code holds when its channel has a Login link.
pub fn source_url(public_base: &str, source_id: &str) -> String {
    format!("{}/s/{source_id}", public_base.trim_end_matches('/'))
}

/// The stored key of a state: its SHA-256 in hex.
pub(crate) fn state_key(state: &str) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(state.as_bytes()))
}

/// Whether a Login channel is linked to `channel` (no secret read).
pub async fn is_linked(
    conn: &mut sqlx::AnyConnection,
    clinic: &tsunagu_core::ClinicId,
    channel: &str,
) -> anyhow::Result<bool> {
    Ok(link::list(conn, clinic)
        .await?
        .iter()
        .any(|(c, _)| c == channel))
}

/// The link a source's QR code holds: on a LINE channel with a linked Login channel our own
/// `/s/{source}` (LINE Login with the add-friend option), otherwise the prefilled message
/// (`sources::chat_link`; `None` while the channel has no public address). The sources page and
/// the API both ask here.
pub async fn source_link(
    conn: &mut sqlx::AnyConnection,
    clinic: &tsunagu_core::ClinicId,
    source: &crate::sources::Source,
    kind: &str,
    public_base: &str,
) -> anyhow::Result<Option<String>> {
    if kind == "line" && is_linked(&mut *conn, clinic, &source.channel_id).await? {
        return Ok(Some(source_url(public_base, &source.id)));
    }
    let address = crate::sources::address(conn, clinic, &source.channel_id).await?;
    Ok(address.and_then(|a| crate::sources::chat_link(kind, &a, &source.code)))
}
