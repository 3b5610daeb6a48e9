//! The on-call rota (オンコール当番): who is called first when an urgent message arrives, and
//! when. Entries covering a moment are tried in order (position, then start); the escalation
//! walks them one by one. Only members who may reply can be on it.
use anyhow::Context;
use sqlx::{AnyConnection, FromRow};
use tsunagu_core::ids::new_id;
use tsunagu_core::ClinicId;
use tsunagu_store::inbox_views;

#[derive(Clone, Debug, FromRow, serde::Serialize)]
pub struct Entry {
    pub id: String,
    pub staff_id: String,
    pub display_name: String,
    pub starts_at: i64,
    pub ends_at: i64,
    pub position: i64,
}

/// Every entry of the clinic, in rota order, with the member's name.
pub async fn list(conn: &mut AnyConnection, clinic: &ClinicId) -> anyhow::Result<Vec<Entry>> {
    sqlx::query_as(
        "SELECT r.id, r.staff_id, s.display_name, r.starts_at, r.ends_at, r.position
         FROM on_call_rota r JOIN staff s ON s.id = r.staff_id
         WHERE r.clinic_id = $1 ORDER BY r.position, r.starts_at, r.id",
    )
    .bind(clinic.as_str())
    .fetch_all(conn)
    .await
    .context("listing the on-call rota")
}

/// Why an entry was not added.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refused {
    /// Not a member of this clinic who may reply.
    NotAMember,
    /// The end is not after the start.
    Backwards,
}

/// Adds `staff_id` on call from `starts_at` to `ends_at` (ms), after the entries already there.
pub async fn add(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    staff_id: &str,
    (starts_at, ends_at): (i64, i64),
    now_ms: i64,
) -> anyhow::Result<Result<String, Refused>> {
    if ends_at <= starts_at {
        return Ok(Err(Refused::Backwards));
    }
    let members = inbox_views::assignable_staff(&mut *conn, clinic).await?;
    if !members.iter().any(|m| m.staff_id == staff_id) {
        return Ok(Err(Refused::NotAMember));
    }
    let id = new_id();
    sqlx::query(
        "INSERT INTO on_call_rota (id, clinic_id, staff_id, starts_at, ends_at, position, created_at)
         SELECT $1, $2, $3, $4, $5, COALESCE(MAX(position), 0) + 1, $6 FROM on_call_rota WHERE clinic_id = $2",
    )
    .bind(&id)
    .bind(clinic.as_str())
    .bind(staff_id)
    .bind(starts_at)
    .bind(ends_at)
    .bind(now_ms)
    .execute(conn)
    .await
    .context("adding to the on-call rota")?;
    Ok(Ok(id))
}

/// `false`: not the clinic's entry.
pub async fn remove(conn: &mut AnyConnection, clinic: &ClinicId, id: &str) -> anyhow::Result<bool> {
    let done = sqlx::query("DELETE FROM on_call_rota WHERE id = $1 AND clinic_id = $2")
        .bind(id)
        .bind(clinic.as_str())
        .execute(conn)
        .await
        .context("removing from the on-call rota")?;
    Ok(done.rows_affected() == 1)
}

/// Who is on call at `at`, in the order they are called (each person once), members who may
/// still reply only.
pub async fn on_call_at(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    at: i64,
) -> anyhow::Result<Vec<String>> {
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT staff_id FROM on_call_rota
         WHERE clinic_id = $1 AND starts_at <= $2 AND ends_at > $2
         ORDER BY position, starts_at, id",
    )
    .bind(clinic.as_str())
    .bind(at)
    .fetch_all(&mut *conn)
    .await
    .context("reading who is on call")?;
    let members = inbox_views::assignable_staff(&mut *conn, clinic).await?;
    let mut out: Vec<String> = Vec::new();
    for (id,) in rows {
        if !out.contains(&id) && members.iter().any(|m| m.staff_id == id) {
            out.push(id);
        }
    }
    Ok(out)
}
