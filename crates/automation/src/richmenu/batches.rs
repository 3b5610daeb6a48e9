//! The `rich_menu_batches` rows: one per bulk relink through LINE's `richmenu/batch`, with the
//! progress LINE last reported (shown on the rich menu list).
use anyhow::Context;
use serde::Serialize;
use sqlx::{AnyConnection, FromRow};
use tsunagu_core::{new_id, ClinicId};

use super::store::Menu;

/// A batch relink and its progress as LINE last reported it.
#[derive(Clone, Debug, FromRow, Serialize)]
pub struct Batch {
    pub id: String,
    pub clinic_id: String,
    pub channel_id: String,
    pub rich_menu_id: String,
    pub request_id: String,
    pub operations: i64,
    pub phase: String,
    pub accepted_at: i64,
    pub completed_at: Option<i64>,
}

const BATCH_COLS: &str = "id, clinic_id, channel_id, rich_menu_id, request_id, operations, phase, accepted_at, completed_at";

pub(super) async fn insert_batch(
    conn: &mut AnyConnection,
    menu: &Menu,
    request_id: &str,
    operations: i64,
    now_ms: i64,
) -> anyhow::Result<String> {
    let id = new_id();
    sqlx::query(
        "INSERT INTO rich_menu_batches (id, clinic_id, channel_id, rich_menu_id, request_id, operations, phase, accepted_at)
         VALUES ($1, $2, $3, $4, $5, $6, 'ongoing', $7)",
    )
    .bind(&id)
    .bind(&menu.clinic_id)
    .bind(&menu.channel_id)
    .bind(&menu.id)
    .bind(request_id)
    .bind(operations)
    .bind(now_ms)
    .execute(conn)
    .await
    .context("recording the rich menu batch")?;
    Ok(id)
}

pub(super) async fn batch(conn: &mut AnyConnection, id: &str) -> anyhow::Result<Option<Batch>> {
    sqlx::query_as(&format!(
        "SELECT {BATCH_COLS} FROM rich_menu_batches WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(conn)
    .await
    .context("reading the rich menu batch")
}

pub(super) async fn set_batch_phase(
    conn: &mut AnyConnection,
    id: &str,
    phase: &str,
    completed_at: Option<i64>,
) -> anyhow::Result<()> {
    sqlx::query("UPDATE rich_menu_batches SET phase = $1, completed_at = $2 WHERE id = $3")
        .bind(phase)
        .bind(completed_at)
        .bind(id)
        .execute(conn)
        .await
        .context("recording the batch's progress")?;
    Ok(())
}

/// The clinic's batch relinks, newest first (shown on the list).
pub async fn batches_of(conn: &mut AnyConnection, clinic: &ClinicId) -> anyhow::Result<Vec<Batch>> {
    sqlx::query_as(&format!(
        "SELECT {BATCH_COLS} FROM rich_menu_batches WHERE clinic_id = $1 ORDER BY accepted_at DESC, id DESC"
    ))
    .bind(clinic.as_str())
    .fetch_all(conn)
    .await
    .context("listing the rich menu batches")
}
