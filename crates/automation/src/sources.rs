//! Where patients come from (流入経路, issue 12 item 10): a source (待合室ポスター, 受付カウンター,
//! ホームページ) belongs to a channel and has a short code (`S-7K2Q`). Its QR code opens a chat
//! with a prefilled message ending in the code (LINE `oaMessage`, WhatsApp `wa.me`, SMS `sms:`),
//! or on Messenger carries it as the m.me link's `ref`, which the webhook returns;
//! the patient's first message carrying a known code of that channel tags them with the source's
//! tag and records a scan (once per message, so a redelivery or a retried job counts once); the
//! first source that ever saw a patient counts them as added by it. A source may welcome who
//! arrives through it (a greeting and/or a flow, first time or every scan; migration 0035), sent
//! by dispatch. Tables from migration 0029.
use anyhow::Context;
use serde::Serialize;
use sqlx::{AnyConnection, FromRow};
use tsunagu_core::text::{fold_case, fold_width};
use tsunagu_core::{new_id, ClinicId};

pub const MAX_NAME: usize = 30;
/// Code letters a person cannot misread (no 0/O, 1/I).
const ALPHABET: &[u8; 32] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";

#[derive(Clone, Debug, FromRow, Serialize)]
pub struct Source {
    pub id: String,
    pub channel_id: String,
    pub name: String,
    pub code: String,
    pub tag: String,
    pub created_at: i64,
    /// The source's greeting ('' for none).
    pub welcome_text: String,
    /// A published flow of the clinic started on arrival.
    pub welcome_flow_id: Option<String>,
    /// 1: on every message carrying the code (読み取るたび); 0: the first time this patient
    /// comes through this source (初回のみ).
    pub welcome_every: i64,
}

impl Source {
    pub fn welcomes(&self) -> bool {
        !self.welcome_text.trim().is_empty() || self.welcome_flow_id.is_some()
    }
}

/// A patient's message that came through a source, the first time for that message.
#[derive(Clone, Debug)]
pub struct Arrival {
    pub source: Source,
    /// The first time this patient came through this source.
    pub first: bool,
}

impl Arrival {
    /// Whether the source's welcome goes for this arrival.
    pub fn welcomed(&self) -> bool {
        self.source.welcomes() && (self.first || self.source.welcome_every != 0)
    }
}

/// A source with its numbers for the sources page.
#[derive(Clone, Debug, Serialize)]
pub struct Counted {
    pub source: Source,
    /// Patients first seen through this source.
    pub added: i64,
    /// Messages that carried its code.
    pub messages: i64,
    /// Patients it reached who still follow the channel.
    pub following: i64,
}

const COLS: &str =
    "id, channel_id, name, code, tag, created_at, welcome_text, welcome_flow_id, welcome_every";

/// A fresh code: `S-` and four letters from [`ALPHABET`].
fn fresh_code() -> String {
    let bytes = uuid::Uuid::new_v4().into_bytes();
    let mut code = String::from("S-");
    for b in &bytes[..4] {
        code.push(ALPHABET[(*b as usize) % ALPHABET.len()] as char);
    }
    code
}

/// What the patient's phone prefills: friendly Japanese with the code at the end.
pub fn prefilled_text(code: &str) -> String {
    format!("QRコードから登録します [{code}]")
}

/// RFC 3986 percent-encoding of everything but the unreserved characters (a space is `%20`).
fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The link a source's QR code opens on a channel kind at `address` (LINE basic id `@xxxx`, a
/// WhatsApp or SMS number, a Facebook Page's username), or `None` for a kind without one. Most
/// open a chat with the prefilled words ending in `code`; Messenger's carries it as `ref`,
/// which comes back on the webhook (`postback.referral` or a `messaging_referrals` item).
pub fn chat_link(kind: &str, address: &str, code: &str) -> Option<String> {
    let address = address.trim();
    if address.is_empty() {
        return None;
    }
    let text = prefilled_text(code);
    let digits: String = address.chars().filter(|c| c.is_ascii_digit()).collect();
    match kind {
        // https://developers.line.biz/en/docs/messaging-api/using-line-url-scheme/
        "line" => Some(format!(
            "https://line.me/R/oaMessage/{}/?{}",
            percent_encode(address),
            percent_encode(&text)
        )),
        // https://faq.whatsapp.com/5913398998672934 (wa.me with a prefilled message)
        "whatsapp" if !digits.is_empty() => Some(format!(
            "https://wa.me/{digits}?text={}",
            percent_encode(&text)
        )),
        // RFC 5724: sms:<number>?body=<text>
        "sms" if !digits.is_empty() => {
            Some(format!("sms:+{digits}?body={}", percent_encode(&text)))
        }
        // Meta: Messenger Platform › Discovery › m.me Links (`ref` up to 250 characters).
        "messenger" => Some(format!(
            "https://m.me/{}?ref={}",
            percent_encode(address.trim_start_matches('@')),
            percent_encode(code)
        )),
        _ => None,
    }
}

pub async fn list(conn: &mut AnyConnection, clinic: &ClinicId) -> anyhow::Result<Vec<Source>> {
    sqlx::query_as(&format!(
        "SELECT {COLS} FROM inflow_sources WHERE clinic_id = $1 ORDER BY created_at, id"
    ))
    .bind(clinic.as_str())
    .fetch_all(conn)
    .await
    .context("listing the inflow sources")
}

pub async fn get(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    id: &str,
) -> anyhow::Result<Option<Source>> {
    sqlx::query_as(&format!(
        "SELECT {COLS} FROM inflow_sources WHERE id = $1 AND clinic_id = $2"
    ))
    .bind(id)
    .bind(clinic.as_str())
    .fetch_optional(conn)
    .await
    .context("reading an inflow source")
}

/// Every source with its numbers.
pub async fn counted(conn: &mut AnyConnection, clinic: &ClinicId) -> anyhow::Result<Vec<Counted>> {
    let sources = list(&mut *conn, clinic).await?;
    let rows: Vec<(String, i64, i64, i64)> = sqlx::query_as(
        "SELECT s.id,
           (SELECT COUNT(*) FROM inflow_source_patients sp WHERE sp.source_id = s.id AND sp.counted = 1),
           (SELECT COUNT(*) FROM inflow_scans sc WHERE sc.source_id = s.id),
           (SELECT COUNT(*) FROM inflow_source_patients sp WHERE sp.source_id = s.id
              AND EXISTS (SELECT 1 FROM channel_identities ci WHERE ci.patient_id = sp.patient_id
                          AND ci.channel_id = s.channel_id AND ci.follow_state <> 'blocked'))
         FROM inflow_sources s WHERE s.clinic_id = $1",
    )
    .bind(clinic.as_str())
    .fetch_all(conn)
    .await
    .context("counting the inflow sources")?;
    Ok(sources
        .into_iter()
        .map(|source| {
            let n = rows.iter().find(|r| r.0 == source.id);
            Counted {
                added: n.map_or(0, |r| r.1),
                messages: n.map_or(0, |r| r.2),
                following: n.map_or(0, |r| r.3),
                source,
            }
        })
        .collect())
}

/// One day of one source: patients it brought first that day and messages carrying its code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Day {
    pub date: chrono::NaiveDate,
    pub source_id: String,
    pub added: i64,
    pub messages: i64,
}

/// Per source and clinic-local day (in `tz`), oldest first; days with nothing are left out.
pub async fn per_day(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    tz: chrono_tz::Tz,
) -> anyhow::Result<Vec<Day>> {
    let scans: Vec<(String, i64)> =
        sqlx::query_as("SELECT source_id, at FROM inflow_scans WHERE clinic_id = $1")
            .bind(clinic.as_str())
            .fetch_all(&mut *conn)
            .await
            .context("reading the source scans")?;
    let added: Vec<(String, i64)> = sqlx::query_as(
        "SELECT source_id, first_at FROM inflow_source_patients WHERE clinic_id = $1 AND counted = 1",
    )
    .bind(clinic.as_str())
    .fetch_all(conn)
    .await
    .context("reading the patients sources brought")?;
    let day = |ms: i64| {
        tsunagu_core::clock::from_ms(ms)
            .with_timezone(&tz)
            .date_naive()
    };
    let mut days: std::collections::BTreeMap<(chrono::NaiveDate, String), (i64, i64)> =
        Default::default();
    for (src, at) in added {
        days.entry((day(at), src)).or_default().0 += 1;
    }
    for (src, at) in scans {
        days.entry((day(at), src)).or_default().1 += 1;
    }
    Ok(days
        .into_iter()
        .map(|((date, source_id), (added, messages))| Day {
            date,
            source_id,
            added,
            messages,
        })
        .collect())
}

/// Creates a source with a fresh code (unique per channel); its id.
pub async fn create(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    channel: &str,
    name: &str,
    tag: &str,
    now_ms: i64,
) -> anyhow::Result<String> {
    let id = new_id();
    for _ in 0..5 {
        let done = sqlx::query(
            "INSERT INTO inflow_sources (id, clinic_id, channel_id, name, code, tag, created_at)
             SELECT $1, $2, $3, $4, $5, $6, $7
             WHERE NOT EXISTS (SELECT 1 FROM inflow_sources WHERE channel_id = $3 AND code = $5)",
        )
        .bind(&id)
        .bind(clinic.as_str())
        .bind(channel)
        .bind(name)
        .bind(fresh_code())
        .bind(tag)
        .bind(now_ms)
        .execute(&mut *conn)
        .await
        .context("storing an inflow source")?;
        if done.rows_affected() == 1 {
            return Ok(id);
        }
    }
    anyhow::bail!("no free source code after five tries")
}

/// The channel's public address for chat links (LINE basic id, phone number), if set.
pub async fn address(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    channel: &str,
) -> anyhow::Result<Option<String>> {
    sqlx::query_scalar(
        "SELECT address FROM inflow_channel_addresses WHERE channel_id = $1 AND clinic_id = $2",
    )
    .bind(channel)
    .bind(clinic.as_str())
    .fetch_optional(conn)
    .await
    .context("reading a channel's public address")
}

pub async fn set_address(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    channel: &str,
    address: &str,
    now_ms: i64,
) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO inflow_channel_addresses (channel_id, clinic_id, address, updated_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (channel_id) DO UPDATE SET address = excluded.address, updated_at = excluded.updated_at",
    )
    .bind(channel)
    .bind(clinic.as_str())
    .bind(address)
    .bind(now_ms)
    .execute(conn)
    .await
    .context("storing a channel's public address")?;
    Ok(())
}

/// `text` folded for matching codes, when it could carry one (`S-` in any width or case).
fn may_carry_code(text: &str) -> Option<String> {
    let folded = fold_case(&fold_width(text));
    folded.contains("s-").then_some(folded)
}

/// The source of `channel` whose code `text` carries (in any width or case).
pub async fn find_in_text(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    channel: &str,
    text: &str,
) -> anyhow::Result<Option<Source>> {
    let Some(folded) = may_carry_code(text) else {
        return Ok(None); // most messages: no query at all
    };
    let all: Vec<Source> = sqlx::query_as(&format!(
        "SELECT {COLS} FROM inflow_sources WHERE clinic_id = $1 AND channel_id = $2"
    ))
    .bind(clinic.as_str())
    .bind(channel)
    .fetch_all(conn)
    .await
    .context("reading the channel's inflow sources")?;
    Ok(all
        .into_iter()
        .find(|s| folded.contains(&fold_case(&s.code))))
}

/// Records that `message` came through `source` for `patient`: `true` the first time for this
/// message (a retried job records nothing more). The patient counts as added by the source if no
/// source saw them before.
pub async fn record_scan(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    source: &Source,
    patient: &str,
    message: &str,
    now_ms: i64,
) -> anyhow::Result<bool> {
    let done = sqlx::query(
        "INSERT INTO inflow_scans (message_id, clinic_id, source_id, patient_id, at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (message_id) DO NOTHING",
    )
    .bind(message)
    .bind(clinic.as_str())
    .bind(&source.id)
    .bind(patient)
    .bind(now_ms)
    .execute(&mut *conn)
    .await
    .context("recording a source scan")?;
    if done.rows_affected() == 0 {
        return Ok(false);
    }
    sqlx::query(
        "INSERT INTO inflow_source_patients (source_id, clinic_id, patient_id, counted, first_at)
         SELECT $1, $2, $3,
           CASE WHEN EXISTS (SELECT 1 FROM inflow_source_patients WHERE clinic_id = $2 AND patient_id = $3) THEN 0 ELSE 1 END,
           $4
         WHERE NOT EXISTS (SELECT 1 FROM inflow_source_patients WHERE source_id = $1 AND patient_id = $3)",
    )
    .bind(&source.id)
    .bind(clinic.as_str())
    .bind(patient)
    .bind(now_ms)
    .execute(conn)
    .await
    .context("recording the patient a source brought")?;
    Ok(true)
}

/// What [`attribute`] found in a patient's message.
#[derive(Debug)]
pub enum Attributed {
    /// No source's code.
    Nothing,
    /// A code already recorded for this message (a retried job): nothing more happens.
    Again,
    /// Came through a source, recorded now.
    Arrived(Arrival),
}

impl Attributed {
    /// The message carried a source's code (its words then set off no other automation).
    pub fn carried(&self) -> bool {
        !matches!(self, Attributed::Nothing)
    }
}

/// A patient's message on `channel`: if it carries a source's code, records the scan and tags
/// the patient with the source's tag (through `contacts`, so tag rules and sequences follow), in
/// one transaction, taken only when there is a code (every patient's text passes here, and a
/// writing transaction holds SQLite's one writer).
pub async fn attribute(
    db: &tsunagu_store::Db,
    clinic: &ClinicId,
    channel: &str,
    patient: &str,
    message: &str,
    text: &str,
    now_ms: i64,
) -> anyhow::Result<Attributed> {
    if may_carry_code(text).is_none() {
        return Ok(Attributed::Nothing);
    }
    let source = {
        let mut conn = db.pool().acquire().await?;
        find_in_text(&mut conn, clinic, channel, text).await?
    };
    let Some(source) = source else {
        return Ok(Attributed::Nothing);
    };
    let mut tx = db.begin().await?;
    let Some(arrival) = arrive(tx.conn(), clinic, source, patient, message, now_ms).await? else {
        return Ok(Attributed::Again);
    };
    tx.commit().await?;
    Ok(Attributed::Arrived(arrival))
}

/// A source's welcome as message objects: its greeting (with the reply variables), then its
/// flow's first messages (the flow starts in the conversation). Empty when it sends nothing.
pub async fn welcome_content(
    db: &tsunagu_store::Db,
    clinic: &ClinicId,
    conv: &tsunagu_store::conversations::Conversation,
    source: &Source,
    now_ms: i64,
) -> anyhow::Result<Vec<tsunagu_inbox::reply::Outgoing>> {
    use tsunagu_inbox::{canned, reply::Outgoing};
    let mut out = Vec::new();
    if !source.welcome_text.trim().is_empty() {
        let vars = {
            let mut conn = db.pool().acquire().await?;
            canned::vars::for_conversation(&mut conn, clinic, conv, "").await?
        };
        let text = canned::render::render(&source.welcome_text, &vars);
        out.push(Outgoing::text(&text));
    }
    if let Some(flow) = &source.welcome_flow_id {
        let start = crate::flows::runtime::Start::default();
        if let Some((_, fx)) =
            crate::flows::runtime::begin(db, clinic, conv, flow, start, now_ms).await?
        {
            out.extend(fx.says.iter().map(crate::flows::runtime::outgoing));
        }
    }
    Ok(out)
}

/// `patient` came through `source`, the visit known by `key` (the message that carried the
/// code, or a LINE Login visit `login:<state>`): records the scan once per key, counts the
/// patient for the first source that saw them and tags them (through `contacts`, so tag rules
/// and sequences follow), in the caller's transaction. `None` when the key was recorded before.
pub async fn arrive(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    source: Source,
    patient: &str,
    key: &str,
    now_ms: i64,
) -> anyhow::Result<Option<Arrival>> {
    let seen: Option<i64> = sqlx::query_scalar(
        "SELECT 1 FROM inflow_source_patients WHERE source_id = $1 AND patient_id = $2",
    )
    .bind(&source.id)
    .bind(patient)
    .fetch_optional(&mut *conn)
    .await
    .context("reading whether the source saw the patient")?;
    if !record_scan(&mut *conn, clinic, &source, patient, key, now_ms).await? {
        return Ok(None);
    }
    let change = tsunagu_contacts::Changes {
        tags: Some(vec![source.tag.clone()]),
        tags_add_only: true,
        ..Default::default()
    };
    let id = tsunagu_core::PatientId::from_db(patient.to_string());
    tsunagu_contacts::patients::apply(conn, clinic, &id, &change, now_ms)
        .await
        .map_err(|e| anyhow::anyhow!("tagging the patient from a source: {e:?}"))?;
    Ok(Some(Arrival {
        source,
        first: seen.is_none(),
    }))
}

/// A source by id whichever clinic it belongs to: only for its public link (`/s/{id}`), which
/// carries no clinic; everything after it is scoped by the source's own clinic.
pub async fn by_public_id(
    conn: &mut AnyConnection,
    id: &str,
) -> anyhow::Result<Option<(ClinicId, Source)>> {
    let row: Option<(String,)> =
        sqlx::query_as("SELECT clinic_id FROM inflow_sources WHERE id = $1")
            .bind(id)
            .fetch_optional(&mut *conn)
            .await
            .context("finding a source by its public link")?;
    let Some((clinic,)) = row else {
        return Ok(None);
    };
    let clinic = ClinicId::from_db(clinic);
    Ok(get(conn, &clinic, id).await?.map(|s| (clinic, s)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_link_opens_the_chat_with_the_code_at_the_end() {
        let link = chat_link("line", "@sakura", "S-7K2Q").unwrap_or_default();
        assert!(
            link.starts_with("https://line.me/R/oaMessage/%40sakura/?"),
            "{link}"
        );
        assert!(link.ends_with("%20%5BS-7K2Q%5D"), "{link}");
        assert!(!link.contains(' '));
    }

    #[test]
    fn whatsapp_and_sms_links_use_the_number_digits() {
        let text = percent_encode(&prefilled_text("S-AB23"));
        let w = chat_link("whatsapp", "+81 90-1234-5678", "S-AB23").unwrap_or_default();
        assert_eq!(w, format!("https://wa.me/819012345678?text={text}"));
        let s = chat_link("sms", "+819012345678", "S-AB23").unwrap_or_default();
        assert_eq!(s, format!("sms:+819012345678?body={text}"));
        assert_eq!(chat_link("instagram", "page", "S-AB23"), None);
        assert_eq!(chat_link("line", " ", "S-AB23"), None);
    }

    #[test]
    fn a_messenger_link_carries_the_code_as_its_ref() {
        let m = chat_link("messenger", "sakura.clinic", "S-AB23").unwrap_or_default();
        assert_eq!(m, "https://m.me/sakura.clinic?ref=S-AB23");
    }

    #[test]
    fn codes_are_four_unambiguous_letters() {
        let c = fresh_code();
        assert_eq!(c.len(), 6);
        assert!(c[2..].bytes().all(|b| ALPHABET.contains(&b)), "{c}");
    }
}
