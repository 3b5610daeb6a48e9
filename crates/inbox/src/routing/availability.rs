//! Each staff member's availability (対応可能 / 離席中 / オフライン) and capacity, per clinic.
//! Only online members under capacity are given conversations automatically.
use anyhow::Context;
use serde::Serialize;
use sqlx::{AnyConnection, FromRow};
use tsunagu_core::ClinicId;

/// A member with no row yet: offline, this capacity.
pub const DEFAULT_CAPACITY: i64 = 10;
/// A capacity beyond this is a typo, not a plan.
pub const MAX_CAPACITY: i64 = 200;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Availability {
    Online,
    Away,
    Offline,
}

impl Availability {
    pub fn parse(s: &str) -> Option<Availability> {
        match s {
            "online" => Some(Availability::Online),
            "away" => Some(Availability::Away),
            "offline" => Some(Availability::Offline),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Availability::Online => "online",
            Availability::Away => "away",
            Availability::Offline => "offline",
        }
    }

    pub const ALL: [Availability; 3] = [
        Availability::Online,
        Availability::Away,
        Availability::Offline,
    ];
}

/// One staff member's routing state in a clinic, with the open conversations assigned.
#[derive(Clone, Debug, FromRow, Serialize)]
pub struct Presence {
    pub staff_id: String,
    pub display_name: String,
    pub role: String,
    pub availability: String,
    pub capacity: i64,
    pub open_assigned: i64,
}

impl Presence {
    pub fn availability(&self) -> Availability {
        Availability::parse(&self.availability).unwrap_or(Availability::Offline)
    }
}

/// Everyone with a membership in the clinic (enabled accounts), by name.
pub async fn list(conn: &mut AnyConnection, clinic: &ClinicId) -> anyhow::Result<Vec<Presence>> {
    sqlx::query_as(
        "SELECT s.id AS staff_id, s.display_name, m.role,
                COALESCE(r.availability, 'offline') AS availability,
                COALESCE(r.capacity, $2) AS capacity,
                (SELECT COUNT(*) FROM conversations c
                  WHERE c.clinic_id = m.clinic_id AND c.assignee_id = s.id AND c.status = 'open')
                  AS open_assigned
         FROM memberships m JOIN staff s ON s.id = m.staff_id
         LEFT JOIN staff_routing r ON r.clinic_id = m.clinic_id AND r.staff_id = s.id
         WHERE m.clinic_id = $1 AND s.disabled = 0
         ORDER BY s.display_name, s.id",
    )
    .bind(clinic.as_str())
    .bind(DEFAULT_CAPACITY)
    .fetch_all(conn)
    .await
    .context("listing the staff's availability")
}

/// One staff member's availability here (offline when never set).
pub async fn get(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    staff_id: &str,
) -> anyhow::Result<Availability> {
    let v: Option<String> = sqlx::query_scalar(
        "SELECT availability FROM staff_routing WHERE clinic_id = $1 AND staff_id = $2",
    )
    .bind(clinic.as_str())
    .bind(staff_id)
    .fetch_optional(conn)
    .await
    .context("reading availability")?;
    Ok(v.as_deref()
        .and_then(Availability::parse)
        .unwrap_or(Availability::Offline))
}

/// Sets availability. The caller has checked the staff member belongs to the clinic.
pub async fn set(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    staff_id: &str,
    a: Availability,
    now: i64,
) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO staff_routing (clinic_id, staff_id, availability, capacity, updated_at)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (clinic_id, staff_id) DO UPDATE SET availability = $3, updated_at = $5",
    )
    .bind(clinic.as_str())
    .bind(staff_id)
    .bind(a.as_str())
    .bind(DEFAULT_CAPACITY)
    .bind(now)
    .execute(conn)
    .await
    .context("setting availability")?;
    Ok(())
}

/// Sets capacity (clamped to 0..=MAX_CAPACITY). The caller has checked the staff member.
pub async fn set_capacity(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    staff_id: &str,
    capacity: i64,
    now: i64,
) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO staff_routing (clinic_id, staff_id, capacity, updated_at)
         VALUES ($1, $2, $3, $4)
         ON CONFLICT (clinic_id, staff_id) DO UPDATE SET capacity = $3, updated_at = $4",
    )
    .bind(clinic.as_str())
    .bind(staff_id)
    .bind(capacity.clamp(0, MAX_CAPACITY))
    .bind(now)
    .execute(conn)
    .await
    .context("setting capacity")?;
    Ok(())
}
