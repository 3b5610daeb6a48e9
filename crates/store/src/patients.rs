//! Patients and their identities on each channel.
use std::sync::LazyLock;

use anyhow::Context;
use sqlx::{AnyConnection, FromRow};
use tsunagu_core::{new_id, ChannelId, ChannelIdentityId, ClinicId, PatientId};

use crate::batch::{Batch, Ref};

mod inbound;
pub use inbound::{phone_set, push_follow_state, push_phone_if_missing, push_rename, renamed};

#[derive(Clone, Debug, FromRow, serde::Serialize)]
pub struct Patient {
    pub id: String,
    pub clinic_id: String,
    pub display_name: String,
    pub kana: Option<String>,
    pub birth_date: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub language: Option<String>,
    pub picture_url: Option<String>,
    pub provisional: i64,
    pub created_at: i64,
    pub updated_at: i64,
    /// female | male | other | unknown
    pub sex: String,
    /// 診察券番号, normalized by `tsunagu_contacts::CardNumber`.
    pub card_number: Option<String>,
    pub preferred_channel: Option<String>,
    pub note: Option<String>,
}

#[derive(Clone, Debug, FromRow, serde::Serialize)]
pub struct Identity {
    pub id: String,
    pub clinic_id: String,
    pub channel_id: String,
    pub external_id: String,
    pub patient_id: String,
    pub display_name: Option<String>,
    pub picture_url: Option<String>,
    pub status_message: Option<String>,
    pub language: Option<String>,
    pub follow_state: String,
    pub verified: i64,
    pub created_at: i64,
    pub updated_at: i64,
    /// The patient opted out here (SMS STOP): nothing is attempted until they opt back in.
    pub opted_out_at: Option<i64>,
    pub opt_out_source: Option<String>,
    /// The provider said this address cannot receive.
    pub bounced_at: Option<i64>,
    pub bounce_reason: Option<String>,
    /// The patient's last message here: opens WhatsApp's and Messenger's service window.
    pub last_inbound_at: Option<i64>,
}

pub const PATIENT_COLS: &str = "id, clinic_id, display_name, kana, birth_date, phone, email, language, picture_url, provisional, created_at, updated_at, sex, card_number, preferred_channel, note";
pub(crate) const IDENTITY_COLS: &str = "id, clinic_id, channel_id, external_id, patient_id, display_name, picture_url, status_message, language, follow_state, verified, created_at, updated_at, opted_out_at, opt_out_source, bounced_at, bounce_reason, last_inbound_at";

pub async fn by_id(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    id: &PatientId,
) -> anyhow::Result<Option<Patient>> {
    sqlx::query_as(&format!(
        "SELECT {PATIENT_COLS} FROM patients WHERE id = $1 AND clinic_id = $2"
    ))
    .bind(id.as_str())
    .bind(clinic.as_str())
    .fetch_optional(conn)
    .await
    .context("reading the patient")
}

pub async fn identity(
    conn: &mut AnyConnection,
    channel: &ChannelId,
    external_id: &str,
) -> anyhow::Result<Option<Identity>> {
    sqlx::query_as(&format!(
        "SELECT {IDENTITY_COLS} FROM channel_identities WHERE channel_id = $1 AND external_id = $2"
    ))
    .bind(channel.as_str())
    .bind(external_id)
    .fetch_optional(conn)
    .await
    .context("looking up the channel identity")
}

pub async fn identity_by_id(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    id: &str,
) -> anyhow::Result<Option<Identity>> {
    sqlx::query_as(&format!(
        "SELECT {IDENTITY_COLS} FROM channel_identities WHERE id = $1 AND clinic_id = $2"
    ))
    .bind(id)
    .bind(clinic.as_str())
    .fetch_optional(conn)
    .await
    .context("reading the channel identity")
}

pub async fn identities_of(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    patient: &PatientId,
) -> anyhow::Result<Vec<Identity>> {
    sqlx::query_as(&format!(
        "SELECT {IDENTITY_COLS} FROM channel_identities WHERE patient_id = $1 AND clinic_id = $2 ORDER BY id"
    ))
    .bind(patient.as_str())
    .bind(clinic.as_str())
    .fetch_all(conn)
    .await
    .context("listing the patient's channel identities")
}

/// Every person on a channel (rich menus are relinked per channel).
pub async fn identities_of_channel(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    channel: &ChannelId,
) -> anyhow::Result<Vec<Identity>> {
    sqlx::query_as(&format!(
        "SELECT {IDENTITY_COLS} FROM channel_identities WHERE channel_id = $1 AND clinic_id = $2 ORDER BY id"
    ))
    .bind(channel.as_str())
    .bind(clinic.as_str())
    .fetch_all(conn)
    .await
    .context("listing the channel's identities")
}

/// A first message from someone new: a provisional patient and their identity on the channel.
/// One call on SQLite (see `batch`).
pub async fn create_provisional(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    channel: &ChannelId,
    external_id: &str,
    display_name: &str,
    now_ms: i64,
) -> anyhow::Result<Identity> {
    let patient_id = new_id();
    // Only the name is known yet: its search form is the whole key (see `search_key`).
    let search = tsunagu_core::text::search_form(display_name);
    let mut b = Batch::new(conn);
    b.arg(patient_id.clone());
    b.arg(clinic.as_str().to_owned());
    b.arg(display_name.to_owned());
    b.arg(now_ms);
    b.arg(search.clone());
    b.push(
        "INSERT INTO patients (id, clinic_id, display_name, provisional, created_at, updated_at, search_key)
         VALUES ($1, $2, $3, 1, $4, $4, $5)",
        "creating a provisional patient",
    );
    // Two first deliveries from the same new user can race (PostgreSQL runs them concurrently):
    // the loser waits for the winner's commit, inserts nothing, drops its own patient row and
    // uses the winner's identity, instead of failing the webhook.
    b.arg(new_id());
    b.arg(clinic.as_str().to_owned());
    b.arg(channel.as_str().to_owned());
    b.arg(external_id.to_owned());
    b.arg(patient_id.clone());
    b.arg(now_ms);
    b.push(
        "INSERT INTO channel_identities (id, clinic_id, channel_id, external_id, patient_id, follow_state, verified, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, 'unknown', 0, $6, $6)
         ON CONFLICT (channel_id, external_id) DO NOTHING",
        "creating the channel identity",
    );
    b.arg(patient_id.clone());
    b.push(
        "DELETE FROM patients WHERE id = $1
           AND NOT EXISTS (SELECT 1 FROM channel_identities WHERE patient_id = $1)",
        "dropping a patient row that lost a race",
    );
    // Found by name from the start (only if the row was kept).
    crate::search::push_patient(&mut b, clinic.as_str(), &patient_id, &search);
    b.arg(channel.as_str().to_owned());
    b.arg(external_id.to_owned());
    b.push(
        &IDENTITY_BY_EXTERNAL,
        "reading back the new channel identity",
    );
    let rows = b.run(conn).await?;
    let row = rows
        .first()
        .context("reading back the new channel identity")?;
    Identity::from_row(row).context("reading the new channel identity")
}

static IDENTITY_BY_EXTERNAL: LazyLock<String> = LazyLock::new(|| {
    format!(
        "SELECT {IDENTITY_COLS} FROM channel_identities WHERE channel_id = $1 AND external_id = $2"
    )
});

/// An identity on `channel` for a patient already on record (e.g. their phone number on the
/// SMS channel, to text them a code). If someone holds that address on the channel already,
/// theirs is returned unchanged.
pub async fn add_identity(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    channel: &ChannelId,
    external_id: &str,
    patient: &str,
    now_ms: i64,
) -> anyhow::Result<Identity> {
    sqlx::query(
        "INSERT INTO channel_identities (id, clinic_id, channel_id, external_id, patient_id, follow_state, verified, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, 'unknown', 0, $6, $6)
         ON CONFLICT (channel_id, external_id) DO NOTHING",
    )
    .bind(new_id())
    .bind(clinic.as_str())
    .bind(channel.as_str())
    .bind(external_id)
    .bind(patient)
    .bind(now_ms)
    .execute(&mut *conn)
    .await
    .context("adding a channel identity to a patient")?;
    identity(conn, channel, external_id)
        .await?
        .context("reading back the added channel identity")
}

pub struct Profile<'a> {
    pub display_name: &'a str,
    pub picture_url: Option<&'a str>,
    pub status_message: Option<&'a str>,
    pub language: Option<&'a str>,
}

/// Stores the provider profile on the identity, and names a provisional patient after it.
pub async fn set_profile(
    conn: &mut AnyConnection,
    identity_id: &ChannelIdentityId,
    p: Profile<'_>,
    now_ms: i64,
) -> anyhow::Result<()> {
    sqlx::query(
        "UPDATE channel_identities SET display_name = $1, picture_url = $2, status_message = $3, language = $4, updated_at = $5
         WHERE id = $6",
    )
    .bind(p.display_name)
    .bind(p.picture_url)
    .bind(p.status_message)
    .bind(p.language)
    .bind(now_ms)
    .bind(identity_id.as_str())
    .execute(&mut *conn)
    .await
    .context("storing the channel profile")?;
    sqlx::query(
        "UPDATE patients SET display_name = $1, picture_url = $2, language = COALESCE(language, $3), updated_at = $4
         WHERE provisional = 1 AND id = (SELECT patient_id FROM channel_identities WHERE id = $5)",
    )
    .bind(p.display_name)
    .bind(p.picture_url)
    .bind(p.language)
    .bind(now_ms)
    .bind(identity_id.as_str())
    .execute(&mut *conn)
    .await
    .context("naming the provisional patient after the profile")?;
    let patient: Option<(String,)> =
        sqlx::query_as("SELECT patient_id FROM channel_identities WHERE id = $1")
            .bind(identity_id.as_str())
            .fetch_optional(&mut *conn)
            .await
            .context("finding the patient of the identity")?;
    if let Some((patient_id,)) = patient {
        refresh_search_key(conn, &PatientId::from_db(patient_id)).await?;
    }
    Ok(())
}

/// following | blocked | unknown
pub async fn set_follow_state(
    conn: &mut AnyConnection,
    identity_id: &ChannelIdentityId,
    state: &str,
    now_ms: i64,
) -> anyhow::Result<()> {
    let mut b = Batch::new(conn);
    push_follow_state(
        &mut b,
        &Ref::Id(identity_id.as_str().to_owned()),
        state,
        now_ms,
    );
    b.run(conn).await?;
    Ok(())
}

/// What patient search matches against: name, reading, phone (E.164 and, for Japanese numbers,
/// the national digits staff type), card number and e-mail, each in `text::search_form`,
/// separated by spaces (which a search term in that form never contains).
pub fn search_key(p: &Patient) -> String {
    let national = p
        .phone
        .as_deref()
        .and_then(|ph| ph.strip_prefix("+81"))
        .map(|rest| format!("0{rest}"));
    [
        Some(p.display_name.as_str()),
        p.kana.as_deref(),
        p.phone.as_deref(),
        national.as_deref(),
        p.card_number.as_deref(),
        p.email.as_deref(),
    ]
    .into_iter()
    .flatten()
    .map(tsunagu_core::text::search_form)
    .collect::<Vec<_>>()
    .join(" ")
}

/// Rewrites the patient's `search_key` from the row as it now is (after any change to it).
pub async fn refresh_search_key(conn: &mut AnyConnection, id: &PatientId) -> anyhow::Result<()> {
    let p: Option<Patient> = sqlx::query_as(&format!(
        "SELECT {PATIENT_COLS} FROM patients WHERE id = $1"
    ))
    .bind(id.as_str())
    .fetch_optional(&mut *conn)
    .await
    .context("reading the patient for its search key")?;
    let Some(p) = p else { return Ok(()) };
    let key = search_key(&p);
    sqlx::query("UPDATE patients SET search_key = $1 WHERE id = $2")
        .bind(&key)
        .bind(id.as_str())
        .execute(&mut *conn)
        .await
        .context("storing the patient's search key")?;
    crate::search::reindex_patient(conn, &p.clinic_id, id.as_str(), &key).await
}

/// An SMS sender's number becomes the provisional patient's phone (staff search by it).
pub async fn set_phone_if_missing(
    conn: &mut AnyConnection,
    patient_id: &str,
    phone_e164: &str,
) -> anyhow::Result<()> {
    let mut b = Batch::new(conn);
    push_phone_if_missing(&mut b, &Ref::Id(patient_id.to_owned()), phone_e164);
    if phone_set(&b.run(&mut *conn).await?) {
        refresh_search_key(conn, &PatientId::from_db(patient_id.to_owned())).await?;
    }
    Ok(())
}

/// A patient offered as the record to link an identity to.
#[derive(Clone, Debug, serde::Serialize, FromRow)]
pub struct LinkCandidate {
    pub id: String,
    pub display_name: String,
    pub card_number: Option<String>,
    pub birth_date: Option<String>,
}

/// Up to 20 of the clinic's patients, other than `except`, whose card number is `search` or
/// whose name/kana contains it (width and kana script ignored), by name.
pub async fn link_candidates(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    except: &PatientId,
    search: &str,
) -> anyhow::Result<Vec<LinkCandidate>> {
    sqlx::query_as(
        "SELECT id, display_name, card_number, birth_date FROM patients
         WHERE clinic_id = $1 AND id <> $2 AND (card_number = $3 OR search_key LIKE $4) ORDER BY display_name LIMIT 20",
    )
    .bind(clinic.as_str())
    .bind(except.as_str())
    .bind(search.to_ascii_uppercase().replace(['-', ' '], ""))
    .bind(format!("%{}%", tsunagu_core::text::search_form(search)))
    .fetch_all(conn)
    .await
    .context("searching patients to link")
}
