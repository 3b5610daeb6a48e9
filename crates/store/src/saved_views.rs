//! A person's saved inbox views: a name and the filter as its query string. Only their owner
//! sees, renames or deletes one: every statement names the clinic and the staff member.
use anyhow::Context;
use sqlx::{AnyConnection, FromRow};
use tsunagu_core::{new_id, ClinicId};

#[derive(Clone, Debug, FromRow, serde::Serialize, PartialEq, Eq)]
pub struct SavedView {
    pub id: String,
    pub name: String,
    /// The inbox's query string (`status=open&label=…`), without `?`.
    pub query: String,
}

pub async fn list(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    staff: &str,
) -> anyhow::Result<Vec<SavedView>> {
    sqlx::query_as(
        "SELECT id, name, query FROM saved_views WHERE clinic_id = $1 AND staff_id = $2
         ORDER BY created_at, id",
    )
    .bind(clinic.as_str())
    .bind(staff)
    .fetch_all(conn)
    .await
    .context("listing saved views")
}

pub async fn get(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    staff: &str,
    id: &str,
) -> anyhow::Result<Option<SavedView>> {
    sqlx::query_as(
        "SELECT id, name, query FROM saved_views WHERE id = $1 AND clinic_id = $2 AND staff_id = $3",
    )
    .bind(id)
    .bind(clinic.as_str())
    .bind(staff)
    .fetch_optional(conn)
    .await
    .context("reading a saved view")
}

pub async fn create(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    staff: &str,
    name: &str,
    query: &str,
    now_ms: i64,
) -> anyhow::Result<SavedView> {
    let id = new_id();
    sqlx::query(
        "INSERT INTO saved_views (id, clinic_id, staff_id, name, query, created_at)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&id)
    .bind(clinic.as_str())
    .bind(staff)
    .bind(name)
    .bind(query)
    .bind(now_ms)
    .execute(conn)
    .await
    .context("saving a view")?;
    Ok(SavedView {
        id,
        name: name.to_owned(),
        query: query.to_owned(),
    })
}

pub async fn rename(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    staff: &str,
    id: &str,
    name: &str,
) -> anyhow::Result<bool> {
    let done = sqlx::query(
        "UPDATE saved_views SET name = $1 WHERE id = $2 AND clinic_id = $3 AND staff_id = $4",
    )
    .bind(name)
    .bind(id)
    .bind(clinic.as_str())
    .bind(staff)
    .execute(conn)
    .await
    .context("renaming a saved view")?;
    Ok(done.rows_affected() == 1)
}

pub async fn delete(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    staff: &str,
    id: &str,
) -> anyhow::Result<bool> {
    let done =
        sqlx::query("DELETE FROM saved_views WHERE id = $1 AND clinic_id = $2 AND staff_id = $3")
            .bind(id)
            .bind(clinic.as_str())
            .bind(staff)
            .execute(conn)
            .await
            .context("deleting a saved view")?;
    Ok(done.rows_affected() == 1)
}
