//! The greeting per channel (あいさつメッセージ): sent once per identity when a patient adds
//! the clinic (LINE follow) or writes for the first time on a channel without a follow event,
//! followed by the consent question per purpose and an offer to verify identity (both asked by
//! `dispatch`, which owns those dialogues). No row: no greeting.
use anyhow::Context;
use sqlx::{AnyConnection, FromRow};
use tsunagu_core::{ChannelId, ClinicId, Code, Refusal};
use tsunagu_store::channels;

use crate::settings::check_text;

pub const DEFAULT_GREETING: &str = "{{clinic.name}}です。友だち追加ありがとうございます。\nこちらのトークでお問い合わせにお返事します（診療時間内に順次）。\n「スタッフ」と送るといつでもスタッフにつながります。";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Greeting {
    pub channel_id: String,
    pub enabled: bool,
    pub greeting_text: String,
    pub ask_consent: bool,
    pub offer_verification: bool,
    pub updated_at: i64,
}

#[derive(FromRow)]
struct Row {
    channel_id: String,
    enabled: i64,
    greeting_text: String,
    ask_consent: i64,
    offer_verification: i64,
    updated_at: i64,
}

impl From<Row> for Greeting {
    fn from(r: Row) -> Self {
        Greeting {
            channel_id: r.channel_id,
            enabled: r.enabled != 0,
            greeting_text: r.greeting_text,
            ask_consent: r.ask_consent != 0,
            offer_verification: r.offer_verification != 0,
            updated_at: r.updated_at,
        }
    }
}

/// The greeting form for one channel, as typed.
#[derive(Clone, Debug, Default)]
pub struct Draft {
    pub enabled: bool,
    pub greeting_text: String,
    pub ask_consent: bool,
    pub offer_verification: bool,
}

const COLS: &str =
    "channel_id, enabled, greeting_text, ask_consent, offer_verification, updated_at";

/// The clinic's greetings, one per channel that has one.
pub async fn list(conn: &mut AnyConnection, clinic: &ClinicId) -> anyhow::Result<Vec<Greeting>> {
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "SELECT {COLS} FROM automation_greetings WHERE clinic_id = $1"
    ))
    .bind(clinic.as_str())
    .fetch_all(conn)
    .await
    .context("listing the clinic's greetings")?;
    Ok(rows.into_iter().map(Greeting::from).collect())
}

/// The channel's greeting when it is switched on.
pub async fn active(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    channel_id: &str,
) -> anyhow::Result<Option<Greeting>> {
    let g: Option<Row> = sqlx::query_as(&format!(
        "SELECT {COLS} FROM automation_greetings WHERE clinic_id = $1 AND channel_id = $2"
    ))
    .bind(clinic.as_str())
    .bind(channel_id)
    .fetch_optional(conn)
    .await
    .context("loading the channel's greeting")?;
    Ok(g.map(Greeting::from).filter(|g| g.enabled))
}

/// Saves the channel's greeting; a channel that is not the clinic's is not found.
pub async fn save(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    channel_id: &str,
    d: &Draft,
    now_ms: i64,
) -> anyhow::Result<Result<(), Refusal>> {
    let ch = ChannelId::from_db(channel_id.to_string());
    if channels::by_id(&mut *conn, clinic, &ch).await?.is_none() {
        return Ok(Err(Refusal::new(Code::NotFound).detail("no such channel")));
    }
    let text = if d.enabled || !d.greeting_text.trim().is_empty() {
        match check_text(&d.greeting_text) {
            Ok(t) => t,
            Err(r) => return Ok(Err(r)),
        }
    } else {
        DEFAULT_GREETING.to_string()
    };
    sqlx::query(
        "INSERT INTO automation_greetings (channel_id, clinic_id, enabled, greeting_text, ask_consent, offer_verification, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (channel_id) DO UPDATE SET enabled = excluded.enabled, greeting_text = excluded.greeting_text,
           ask_consent = excluded.ask_consent, offer_verification = excluded.offer_verification,
           updated_at = excluded.updated_at",
    )
    .bind(channel_id)
    .bind(clinic.as_str())
    .bind(i64::from(d.enabled))
    .bind(&text)
    .bind(i64::from(d.ask_consent))
    .bind(i64::from(d.offer_verification))
    .bind(now_ms)
    .execute(conn)
    .await
    .context("saving the channel's greeting")?;
    Ok(Ok(()))
}
