//! Staff accounts and their clinic memberships. One account (one e-mail) may work in several
//! clinics of an organization, with a role per clinic; the role is always read fresh from
//! `memberships`, so a changed role takes effect on the next request.
use anyhow::Context;
use sqlx::{AnyConnection, FromRow};
use tsunagu_core::{new_id, ClinicId, Role, StaffId};
use tsunagu_store::{clinics, Db};

use crate::passwords;
use tsunagu_privacy::audit::{self, Actor, AuditEntry};

#[derive(Clone, Debug, FromRow)]
pub struct StaffRow {
    pub id: String,
    pub email: String,
    pub display_name: String,
    pub password_hash: String,
    pub totp_secret_enc: Option<String>,
    pub totp_enabled: i64,
    pub totp_last_step: i64,
    pub recovery_codes: String,
    pub locale: Option<String>,
    pub disabled: i64,
    pub sessions_valid_after: i64,
    pub created_at: i64,
}

impl StaffRow {
    pub fn staff_id(&self) -> StaffId {
        StaffId::from_db(self.id.clone())
    }
    pub fn totp_on(&self) -> bool {
        self.totp_enabled != 0
    }
    pub fn is_disabled(&self) -> bool {
        self.disabled != 0
    }
}

/// One membership with what the clinic switcher and sign-in need to know about the clinic.
#[derive(Clone, Debug, FromRow, serde::Serialize)]
pub struct MembershipRow {
    pub clinic_id: String,
    pub clinic_name: String,
    pub clinic_slug: String,
    pub role: String,
    pub require_2fa: i64,
}

impl MembershipRow {
    pub fn role(&self) -> Option<Role> {
        self.role.parse().ok()
    }
}

const COLS: &str =
    "id, email, display_name, password_hash, totp_secret_enc, totp_enabled, totp_last_step, \
                    recovery_codes, locale, disabled, sessions_valid_after, created_at";

/// E-mail addresses are compared lowercased and trimmed everywhere.
pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

pub async fn create(
    conn: &mut AnyConnection,
    email: &str,
    display_name: &str,
    password_hash: &str,
    now_ms: i64,
) -> anyhow::Result<StaffId> {
    let id = new_id();
    sqlx::query(
        "INSERT INTO staff (id, email, display_name, password_hash, created_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&id)
    .bind(normalize_email(email))
    .bind(display_name)
    .bind(password_hash)
    .bind(now_ms)
    .execute(conn)
    .await
    .context("creating the staff account")?;
    Ok(StaffId::from_db(id))
}

pub async fn by_email(conn: &mut AnyConnection, email: &str) -> anyhow::Result<Option<StaffRow>> {
    sqlx::query_as(&format!("SELECT {COLS} FROM staff WHERE email = $1"))
        .bind(normalize_email(email))
        .fetch_optional(conn)
        .await
        .context("looking up the staff account by e-mail")
}

pub async fn by_id(conn: &mut AnyConnection, id: &StaffId) -> anyhow::Result<Option<StaffRow>> {
    sqlx::query_as(&format!("SELECT {COLS} FROM staff WHERE id = $1"))
        .bind(id.as_str())
        .fetch_optional(conn)
        .await
        .context("looking up the staff account")
}

/// Adds (or changes the role of) the staff member's membership in a clinic.
pub async fn add_membership(
    conn: &mut AnyConnection,
    staff: &StaffId,
    clinic: &ClinicId,
    role: Role,
    now_ms: i64,
) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO memberships (staff_id, clinic_id, role, created_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (staff_id, clinic_id) DO UPDATE SET role = excluded.role",
    )
    .bind(staff.as_str())
    .bind(clinic.as_str())
    .bind(role.as_str())
    .bind(now_ms)
    .execute(conn)
    .await
    .context("adding the clinic membership")?;
    Ok(())
}

/// The staff member's clinics, oldest membership first (the first is the default at sign-in).
pub async fn memberships(
    conn: &mut AnyConnection,
    staff: &StaffId,
) -> anyhow::Result<Vec<MembershipRow>> {
    sqlx::query_as(
        "SELECT m.clinic_id, c.name AS clinic_name, c.slug AS clinic_slug, m.role, c.require_2fa
         FROM memberships m JOIN clinics c ON c.id = m.clinic_id
         WHERE m.staff_id = $1 ORDER BY m.created_at, c.name",
    )
    .bind(staff.as_str())
    .fetch_all(conn)
    .await
    .context("listing the staff member's clinics")
}

/// The role in one clinic, or None when the membership is gone.
pub async fn role_in(
    conn: &mut AnyConnection,
    staff: &StaffId,
    clinic: &ClinicId,
) -> anyhow::Result<Option<Role>> {
    let role: Option<String> =
        sqlx::query_scalar("SELECT role FROM memberships WHERE staff_id = $1 AND clinic_id = $2")
            .bind(staff.as_str())
            .bind(clinic.as_str())
            .fetch_optional(conn)
            .await
            .context("reading the staff member's role")?;
    Ok(role.and_then(|r| r.parse().ok()))
}

/// Stores a new password hash (the caller hashed it with `passwords::hash`).
pub async fn set_password(
    conn: &mut AnyConnection,
    staff: &StaffId,
    password_hash: &str,
) -> anyhow::Result<()> {
    sqlx::query("UPDATE staff SET password_hash = $1 WHERE id = $2")
        .bind(password_hash)
        .bind(staff.as_str())
        .execute(conn)
        .await
        .context("changing the password")?;
    Ok(())
}

/// Keeps a not-yet-confirmed TOTP seed (encrypted) while the staff member scans the QR code.
pub async fn set_pending_totp(
    conn: &mut AnyConnection,
    staff: &StaffId,
    secret_enc: &str,
) -> anyhow::Result<()> {
    sqlx::query("UPDATE staff SET totp_secret_enc = $1 WHERE id = $2 AND totp_enabled = 0")
        .bind(secret_enc)
        .bind(staff.as_str())
        .execute(conn)
        .await
        .context("storing the pending TOTP secret")?;
    Ok(())
}

/// Turns TOTP on after the first correct code, with the step of that code and the hashes of
/// the new recovery codes. Returns false when the pending seed changed meanwhile (another tab
/// started over) or TOTP is already on: nothing is changed then.
pub async fn enable_totp(
    conn: &mut AnyConnection,
    staff: &StaffId,
    secret_enc: &str,
    last_step: i64,
    recovery_hashes_json: &str,
) -> anyhow::Result<bool> {
    let r = sqlx::query(
        "UPDATE staff SET totp_enabled = 1, totp_last_step = $1, recovery_codes = $2
         WHERE id = $3 AND totp_enabled = 0 AND totp_secret_enc = $4",
    )
    .bind(last_step)
    .bind(recovery_hashes_json)
    .bind(staff.as_str())
    .bind(secret_enc)
    .execute(conn)
    .await
    .context("enabling two-factor sign-in")?;
    Ok(r.rows_affected() == 1)
}

/// Records an accepted TOTP step. Returns false when a concurrent request already used this or
/// a later step (the compare-and-set keeps one code to one sign-in).
pub async fn advance_totp_step(
    conn: &mut AnyConnection,
    staff: &StaffId,
    step: i64,
) -> anyhow::Result<bool> {
    let r =
        sqlx::query("UPDATE staff SET totp_last_step = $1 WHERE id = $2 AND totp_last_step < $1")
            .bind(step)
            .bind(staff.as_str())
            .execute(conn)
            .await
            .context("recording the used TOTP step")?;
    Ok(r.rows_affected() == 1)
}

/// Replaces the stored recovery-code hashes if they are still `expected` (a code is spent once).
pub async fn replace_recovery_codes(
    conn: &mut AnyConnection,
    staff: &StaffId,
    expected: &str,
    remaining: &str,
) -> anyhow::Result<bool> {
    let r =
        sqlx::query("UPDATE staff SET recovery_codes = $1 WHERE id = $2 AND recovery_codes = $3")
            .bind(remaining)
            .bind(staff.as_str())
            .bind(expected)
            .execute(conn)
            .await
            .context("spending a recovery code")?;
    Ok(r.rows_affected() == 1)
}

/// Voids every session created before now ("sign out everywhere").
pub async fn bump_sessions_valid_after(
    conn: &mut AnyConnection,
    staff: &StaffId,
    now_ms: i64,
) -> anyhow::Result<()> {
    sqlx::query("UPDATE staff SET sessions_valid_after = $1 WHERE id = $2")
        .bind(now_ms)
        .bind(staff.as_str())
        .execute(conn)
        .await
        .context("voiding the staff member's sessions")?;
    Ok(())
}

/// Everyone who is or was a member of the clinic (disabled accounts too: they stay in the
/// audit trail), by name.
pub async fn of_clinic(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
) -> anyhow::Result<Vec<(String, String)>> {
    sqlx::query_as(
        "SELECT s.id, s.display_name FROM memberships m JOIN staff s ON s.id = m.staff_id
         WHERE m.clinic_id = $1 ORDER BY s.display_name, s.id",
    )
    .bind(clinic.as_str())
    .fetch_all(conn)
    .await
    .context("listing the clinic's staff")
}

/// Display names for a page of audit rows: id → name.
pub async fn display_names(
    conn: &mut AnyConnection,
    ids: &[String],
) -> anyhow::Result<std::collections::HashMap<String, String>> {
    let mut out = std::collections::HashMap::new();
    for id in ids {
        if out.contains_key(id) {
            continue;
        }
        let name: Option<String> =
            sqlx::query_scalar("SELECT display_name FROM staff WHERE id = $1")
                .bind(id)
                .fetch_optional(&mut *conn)
                .await
                .context("reading staff display names")?;
        if let Some(n) = name {
            out.insert(id.clone(), n);
        }
    }
    Ok(out)
}

#[derive(Clone, Debug)]
pub struct AddedUser {
    pub staff_id: StaffId,
    /// Set when no password was given and a new account was created: print it once.
    pub generated_password: Option<String>,
    /// The e-mail already had an account: it gained a membership, its password is unchanged.
    pub existed: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum AddUserError {
    #[error("no clinic with the slug {0:?}")]
    UnknownClinic(String),
    #[error("{0:?} is not an e-mail address")]
    InvalidEmail(String),
    #[error("the password must be at least {min} characters", min = passwords::MIN_LENGTH)]
    WeakPassword,
}

/// `tsunagu user add`: creates the account (or finds it by e-mail) and gives it `role` in the
/// clinic. A new account without a password gets a generated one. Audited as the system.
pub async fn add_user(
    db: &Db,
    clinic_slug: &str,
    email: &str,
    role: Role,
    password: Option<&str>,
    now_ms: i64,
) -> anyhow::Result<AddedUser> {
    add_named_user(db, clinic_slug, email, None, role, password, now_ms).await
}

/// [`add_user`] with the name colleagues see (in the inbox, assignments, the audit page); a
/// new account without one is named by its e-mail's local part. An existing account keeps its
/// name.
pub async fn add_named_user(
    db: &Db,
    clinic_slug: &str,
    email: &str,
    name: Option<&str>,
    role: Role,
    password: Option<&str>,
    now_ms: i64,
) -> anyhow::Result<AddedUser> {
    let email = normalize_email(email);
    if !plausible_email(&email) {
        return Err(AddUserError::InvalidEmail(email).into());
    }
    if let Some(p) = password {
        passwords::check_policy(p).map_err(|_| AddUserError::WeakPassword)?;
    }
    let mut tx = db.begin().await?;
    let clinic = clinics::by_slug(tx.conn(), clinic_slug)
        .await?
        .ok_or_else(|| AddUserError::UnknownClinic(clinic_slug.to_string()))?;
    let existing = by_email(tx.conn(), &email).await?;
    let (staff_id, generated_password, existed) = match existing {
        Some(s) => (s.staff_id(), None, true),
        None => {
            let generated = password.is_none().then(|| passwords::generate(20));
            let pw = password.or(generated.as_deref()).unwrap_or_default();
            // Hashing takes a moment of CPU: keep it off the async worker threads.
            let pw_owned = pw.to_string();
            let hash = tokio::task::spawn_blocking(move || passwords::hash(&pw_owned)).await??;
            let name = name
                .map(str::trim)
                .filter(|n| !n.is_empty())
                .unwrap_or_else(|| email.split('@').next().unwrap_or(&email))
                .to_string();
            (
                create(tx.conn(), &email, &name, &hash, now_ms).await?,
                generated,
                false,
            )
        }
    };
    let clinic_id = clinic.clinic_id();
    add_membership(tx.conn(), &staff_id, &clinic_id, role, now_ms).await?;
    let entry = AuditEntry {
        clinic_id: Some(&clinic_id),
        actor: &Actor::System,
        action: "staff.membership_added",
        subject_type: Some("staff"),
        subject_ids: &[staff_id.as_str()],
        source_ip: None,
    };
    audit::record(tx.conn(), db.backend(), entry, now_ms).await?;
    tx.commit().await?;
    Ok(AddedUser {
        staff_id,
        generated_password,
        existed,
    })
}

fn plausible_email(e: &str) -> bool {
    match e.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !e.chars().any(|c| c.is_whitespace() || c == ':')
        }
        None => false,
    }
}
