//! The source's welcome owed to a patient who arrived through LINE Login, sent once they are a
//! friend. The follow webhook may come before or after the callback: the callback sends it when
//! the identity already follows (`push_if_friend`, by push), the follow's dispatch when it is
//! owed then (`claim`, answered with the follow's reply token); the content is the
//! source's own (`sources::welcome_content`). Each send first claims the row
//! (`sent_at`, a conditional UPDATE), so it goes once; it claims the identity's greeting too, so
//! the channel greeting does not also go (as `dispatch::automation::source_welcome` does).
use anyhow::Context;
use sqlx::AnyConnection;
use tsunagu_core::{ChannelId, ClinicId};
use tsunagu_inbox::reply::{self, Author, ReplyOutcome};
use tsunagu_privacy::consent::SendBasis;
use tsunagu_store::{patients, Db};

use crate::conversation::claim_greeting;
use crate::sources::{self, Source};

/// A welcome owed for longer than this is dropped: a patient who declined to add the friend
/// and follows weeks later gets the channel greeting, not a stale welcome.
pub const OWED_FOR_MS: i64 = 24 * 60 * 60 * 1000;

/// Records, in the callback's transaction, that the source's welcome is owed to the identity.
pub(crate) async fn owe(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    state_key: &str,
    identity: &str,
    source: &str,
    now_ms: i64,
) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO line_login_welcomes (state_id, clinic_id, identity_id, source_id, created_at)
         VALUES ($1, $2, $3, $4, $5) ON CONFLICT (state_id) DO NOTHING",
    )
    .bind(state_key)
    .bind(clinic.as_str())
    .bind(identity)
    .bind(source)
    .bind(now_ms)
    .execute(conn)
    .await
    .context("recording a welcome owed")?;
    Ok(())
}

/// Claims every welcome owed to the identity (the newest is the one sent: two scans before
/// adding the friend welcome once) and the identity's greeting. The source, if one was owed.
pub async fn claim(
    db: &Db,
    clinic: &ClinicId,
    identity: &str,
    now_ms: i64,
) -> anyhow::Result<Option<Source>> {
    let mut conn = db.pool().acquire().await?;
    let owed: Vec<(String, String)> = sqlx::query_as(
        "SELECT state_id, source_id FROM line_login_welcomes
         WHERE identity_id = $1 AND clinic_id = $2 AND sent_at IS NULL AND created_at > $3
         ORDER BY created_at DESC",
    )
    .bind(identity)
    .bind(clinic.as_str())
    .bind(now_ms - OWED_FOR_MS)
    .fetch_all(&mut *conn)
    .await
    .context("reading the welcomes owed")?;
    let mut chosen = None;
    for (state, source) in owed {
        let done = sqlx::query(
            "UPDATE line_login_welcomes SET sent_at = $1 WHERE state_id = $2 AND sent_at IS NULL",
        )
        .bind(now_ms)
        .bind(&state)
        .execute(&mut *conn)
        .await
        .context("claiming a welcome owed")?;
        if done.rows_affected() == 1 && chosen.is_none() {
            chosen = Some(source);
        }
    }
    let Some(source) = chosen else {
        return Ok(None);
    };
    claim_greeting(&mut conn, clinic, identity, now_ms).await?;
    sources::get(&mut conn, clinic, &source).await
}

/// After the callback: when the identity already follows the channel, the welcome owed goes
/// now by push (through consent, reachability and the outbox). Otherwise it waits for the
/// follow webhook; nothing ever goes to someone who is not a friend.
pub async fn push_if_friend(
    db: &Db,
    clinic: &ClinicId,
    identity: &str,
    now_ms: i64,
) -> anyhow::Result<()> {
    let (ident, conv) = {
        let mut conn = db.pool().acquire().await?;
        let Some(ident) = patients::identity_by_id(&mut conn, clinic, identity).await? else {
            return Ok(());
        };
        if ident.follow_state != "following" {
            return Ok(());
        }
        let channel = ChannelId::from_db(ident.channel_id.clone());
        let conv_id =
            tsunagu_store::conversations::id_by_thread(&mut conn, &channel, &ident.external_id)
                .await?;
        let Some(conv_id) = conv_id else {
            return Ok(());
        };
        let conv_id = tsunagu_core::ConversationId::from_db(conv_id);
        let conv = tsunagu_store::conversations::by_id(&mut conn, clinic, &conv_id).await?;
        (ident, conv)
    };
    let Some(conv) = conv else {
        return Ok(());
    };
    let Some(source) = claim(db, clinic, &ident.id, now_ms).await? else {
        return Ok(());
    };
    for o in sources::welcome_content(db, clinic, &conv, &source, now_ms).await? {
        let basis = SendBasis::ReplyToPatient;
        let outcome =
            reply::queue_outgoing(db, clinic, &conv, Author::Automation, o, basis, now_ms).await?;
        if let ReplyOutcome::Refused(why) = outcome {
            tracing::warn!(code = why.code.as_str(), conversation = %conv.id, "a LINE Login welcome was not sent");
            break;
        }
    }
    Ok(())
}
