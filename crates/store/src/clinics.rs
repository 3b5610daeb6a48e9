//! Organizations (medical corporations) and their clinics.
use anyhow::Context;
use sqlx::{AnyConnection, FromRow};
use tsunagu_core::{new_id, ClinicId, OrganizationId};

#[derive(Clone, Debug, FromRow, serde::Serialize)]
pub struct Clinic {
    pub id: String,
    pub organization_id: String,
    pub slug: String,
    pub name: String,
    pub timezone: String,
    pub locale: String,
    pub require_2fa: i64,
    pub created_at: i64,
}

impl Clinic {
    pub fn clinic_id(&self) -> ClinicId {
        ClinicId::from_db(self.id.clone())
    }
    pub fn requires_2fa(&self) -> bool {
        self.require_2fa != 0
    }
}

pub async fn create_organization(
    conn: &mut AnyConnection,
    name: &str,
    now_ms: i64,
) -> anyhow::Result<OrganizationId> {
    let id = new_id();
    sqlx::query("INSERT INTO organizations (id, name, created_at) VALUES ($1, $2, $3)")
        .bind(&id)
        .bind(name)
        .bind(now_ms)
        .execute(conn)
        .await
        .context("creating the organization")?;
    Ok(OrganizationId::from_db(id))
}

pub async fn organization_by_name(
    conn: &mut AnyConnection,
    name: &str,
) -> anyhow::Result<Option<OrganizationId>> {
    let id: Option<String> = sqlx::query_scalar("SELECT id FROM organizations WHERE name = $1")
        .bind(name)
        .fetch_optional(conn)
        .await
        .context("looking up the organization")?;
    Ok(id.map(OrganizationId::from_db))
}

pub struct NewClinic<'a> {
    pub organization_id: &'a OrganizationId,
    pub slug: &'a str,
    pub name: &'a str,
    pub timezone: &'a str,
    pub locale: &'a str,
}

pub async fn create_clinic(
    conn: &mut AnyConnection,
    c: NewClinic<'_>,
    now_ms: i64,
) -> anyhow::Result<ClinicId> {
    let id = new_id();
    sqlx::query(
        "INSERT INTO clinics (id, organization_id, slug, name, timezone, locale, require_2fa, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, 1, $7)",
    )
    .bind(&id)
    .bind(c.organization_id.as_str())
    .bind(c.slug)
    .bind(c.name)
    .bind(c.timezone)
    .bind(c.locale)
    .bind(now_ms)
    .execute(conn)
    .await
    .context("creating the clinic")?;
    Ok(ClinicId::from_db(id))
}

const COLS: &str = "id, organization_id, slug, name, timezone, locale, require_2fa, created_at";

pub async fn by_slug(conn: &mut AnyConnection, slug: &str) -> anyhow::Result<Option<Clinic>> {
    sqlx::query_as(&format!("SELECT {COLS} FROM clinics WHERE slug = $1"))
        .bind(slug)
        .fetch_optional(conn)
        .await
        .context("looking up the clinic by slug")
}

pub async fn by_id(conn: &mut AnyConnection, id: &ClinicId) -> anyhow::Result<Option<Clinic>> {
    sqlx::query_as(&format!("SELECT {COLS} FROM clinics WHERE id = $1"))
        .bind(id.as_str())
        .fetch_optional(conn)
        .await
        .context("looking up the clinic")
}

pub async fn set_require_2fa(
    conn: &mut AnyConnection,
    id: &ClinicId,
    on: bool,
) -> anyhow::Result<()> {
    sqlx::query("UPDATE clinics SET require_2fa = $1 WHERE id = $2")
        .bind(on as i64)
        .bind(id.as_str())
        .execute(conn)
        .await
        .context("changing the clinic's 2FA requirement")?;
    Ok(())
}

/// The clinic's name (for messages that carry it, such as verification codes).
pub async fn name_of(conn: &mut AnyConnection, id: &ClinicId) -> anyhow::Result<String> {
    sqlx::query_scalar("SELECT name FROM clinics WHERE id = $1")
        .bind(id.as_str())
        .fetch_one(conn)
        .await
        .context("reading the clinic's name")
}

/// The clinic's phone number for patients (`{{clinic.phone}}` in canned responses), as the
/// clinic writes it; `None` until set.
pub async fn phone(conn: &mut AnyConnection, clinic: &ClinicId) -> anyhow::Result<Option<String>> {
    let phone: Option<Option<String>> =
        sqlx::query_scalar("SELECT phone FROM clinics WHERE id = $1")
            .bind(clinic.as_str())
            .fetch_optional(conn)
            .await
            .context("reading the clinic's phone number")?;
    Ok(phone.flatten())
}

/// Sets (or with `None` clears) the clinic's phone number for patients.
pub async fn set_phone(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    phone: Option<&str>,
) -> anyhow::Result<()> {
    sqlx::query("UPDATE clinics SET phone = $1 WHERE id = $2")
        .bind(phone)
        .bind(clinic.as_str())
        .execute(conn)
        .await
        .context("setting the clinic's phone number")?;
    Ok(())
}
