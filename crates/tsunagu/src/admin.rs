//! Administration commands scripts and integrators rely on: keep their behaviour stable.
use anyhow::Context;
use tsunagu_core::TokenScope;
use tsunagu_privacy::audit::{self, Actor, AuditEntry, Verdict};
use tsunagu_store::{clinics, Db};

pub struct ClinicSpec<'a> {
    pub slug: &'a str,
    pub name: &'a str,
    pub timezone: &'a str,
    pub locale: &'a str,
    pub org: Option<&'a str>,
}

/// Creates a clinic (and its organization when none is named or the named one is new).
pub async fn create_clinic(
    db: &Db,
    c: ClinicSpec<'_>,
    now_ms: i64,
) -> anyhow::Result<tsunagu_core::ClinicId> {
    if c.timezone.parse::<chrono_tz::Tz>().is_err() {
        anyhow::bail!(
            "unknown time zone {:?} (use an IANA name such as Asia/Tokyo)",
            c.timezone
        );
    }
    if !matches!(c.locale, "ja" | "en") {
        anyhow::bail!("unsupported locale {:?} (ja or en)", c.locale);
    }
    let slug_ok = !c.slug.is_empty()
        && c.slug.len() <= 64
        && c.slug
            .chars()
            .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '-');
    if !slug_ok {
        anyhow::bail!("the slug must be 1-64 characters of a-z, 0-9 and -");
    }
    let mut tx = db.begin().await?;
    if clinics::by_slug(tx.conn(), c.slug).await?.is_some() {
        anyhow::bail!("a clinic with slug {:?} already exists", c.slug);
    }
    let org_name = c.org.unwrap_or(c.name);
    let org = match c.org {
        Some(name) => match clinics::organization_by_name(tx.conn(), name).await? {
            Some(o) => o,
            None => clinics::create_organization(tx.conn(), name, now_ms).await?,
        },
        None => clinics::create_organization(tx.conn(), org_name, now_ms).await?,
    };
    let id = clinics::create_clinic(
        tx.conn(),
        clinics::NewClinic {
            organization_id: &org,
            slug: c.slug,
            name: c.name,
            timezone: c.timezone,
            locale: c.locale,
        },
        now_ms,
    )
    .await?;
    audit::record(
        tx.conn(),
        db.backend(),
        AuditEntry {
            clinic_id: Some(&id),
            actor: &Actor::System,
            action: "clinic.create",
            subject_type: Some("clinic"),
            subject_ids: &[id.as_str()],
            source_ip: None,
        },
        now_ms,
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Creates an API token for a clinic; returns (token id, the token in clear, shown once).
pub async fn create_token(
    db: &Db,
    clinic_slug: &str,
    name: &str,
    scopes: &[TokenScope],
    now_ms: i64,
) -> anyhow::Result<(String, String)> {
    let mut tx = db.begin().await?;
    let clinic = clinics::by_slug(tx.conn(), clinic_slug)
        .await?
        .with_context(|| format!("no clinic with slug {clinic_slug:?}"))?;
    let cid = clinic.clinic_id();
    let (id, token) =
        tsunagu_accounts::tokens::create_token(tx.conn(), &cid, name, scopes, now_ms).await?;
    audit::record(
        tx.conn(),
        db.backend(),
        AuditEntry {
            clinic_id: Some(&cid),
            actor: &Actor::System,
            action: "token.create",
            subject_type: Some("api_token"),
            subject_ids: &[id.as_str()],
            source_ip: None,
        },
        now_ms,
    )
    .await?;
    tx.commit().await?;
    Ok((id.to_string(), token))
}

/// `tsunagu audit verify`: Ok(rows) when intact, an error naming the first bad row otherwise.
pub async fn verify_audit(db: &Db) -> anyhow::Result<u64> {
    match audit::verify(db).await? {
        Verdict::Intact { rows } => Ok(rows),
        Verdict::Broken { seq, reason } => {
            anyhow::bail!("the audit trail is broken at row {seq}: {reason}")
        }
    }
}
