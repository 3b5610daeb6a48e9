//! `rich_menu_field_rules`: "patients whose custom field X is Y get menu Z" (初診/再診,
//! ワクチン接種予定), numbered with the tag rules so one priority order decides. A change of a
//! patient's fields queues `rich_menu.assign` as a tag change does (`contacts`), and adding or
//! removing a rule relinks its channel (LINE's bulk link and `richmenu/batch`, ≤ 1,000 each).
use anyhow::Context;
use serde::Serialize;
use sqlx::{AnyConnection, FromRow};
use tsunagu_core::{new_id, ChannelId, ClinicId, Code, Refusal};

use super::store::{get, queue_channel};

#[derive(Clone, Debug, FromRow, Serialize)]
pub struct FieldRule {
    pub id: String,
    pub channel_id: String,
    pub field_key: String,
    pub value: String,
    pub rich_menu_id: String,
    pub menu_name: String,
    pub priority: i64,
}

/// The clinic's field rules, in the order they are tried.
pub async fn field_rules(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
) -> anyhow::Result<Vec<FieldRule>> {
    sqlx::query_as(
        "SELECT r.id, r.channel_id, r.field_key, r.value, r.rich_menu_id, m.name AS menu_name, r.priority
         FROM rich_menu_field_rules r JOIN rich_menus m ON m.id = r.rich_menu_id
         WHERE r.clinic_id = $1 ORDER BY r.channel_id, r.priority, r.id",
    )
    .bind(clinic.as_str())
    .fetch_all(conn)
    .await
    .context("listing the rich menu field rules")
}

/// The next priority number on the channel, after its tag and field rules alike.
pub(super) async fn next_priority(conn: &mut AnyConnection, channel: &str) -> anyhow::Result<i64> {
    sqlx::query_scalar(
        "SELECT COALESCE(MAX(p), 0) + 1 FROM (
           SELECT priority AS p FROM rich_menu_rules WHERE channel_id = $1
           UNION ALL SELECT priority AS p FROM rich_menu_field_rules WHERE channel_id = $1) x",
    )
    .bind(channel)
    .fetch_one(conn)
    .await
    .context("numbering the rich menu rule")
}

/// Adds a rule after the channel's others (the field must be the clinic's) and queues
/// relinking the channel.
pub async fn add_field_rule(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    menu_id: &str,
    field_key: &str,
    value: &str,
    now_ms: i64,
) -> anyhow::Result<Result<String, Refusal>> {
    let value = value.trim();
    if value.is_empty() || value.chars().count() > 100 {
        return Ok(Err(
            Refusal::new(Code::InvalidChoice).detail("value: 1 to 100 characters")
        ));
    }
    let Some(menu) = get(conn, clinic, menu_id).await? else {
        return Ok(Err(Refusal::new(Code::NotFound)));
    };
    let fields = tsunagu_contacts::fields::list(&mut *conn, clinic).await?;
    if !fields.iter().any(|f| f.key == field_key) {
        return Ok(Err(Refusal::new(Code::UnknownField)));
    }
    let taken: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM rich_menu_field_rules WHERE channel_id = $1 AND field_key = $2 AND value = $3",
    )
    .bind(&menu.channel_id)
    .bind(field_key)
    .bind(value)
    .fetch_one(&mut *conn)
    .await
    .context("checking the rich menu field rules")?;
    if taken > 0 {
        return Ok(Err(Refusal::new(Code::RichMenuRuleExists)));
    }
    let next = next_priority(conn, &menu.channel_id).await?;
    let id = new_id();
    sqlx::query(
        "INSERT INTO rich_menu_field_rules (id, clinic_id, channel_id, field_key, value, rich_menu_id, priority, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
    )
    .bind(&id)
    .bind(clinic.as_str())
    .bind(&menu.channel_id)
    .bind(field_key)
    .bind(value)
    .bind(menu_id)
    .bind(next)
    .bind(now_ms)
    .execute(&mut *conn)
    .await
    .context("adding the rich menu field rule")?;
    queue_channel(conn, clinic, &menu.channel(), now_ms).await?;
    Ok(Ok(id))
}

/// Removes a field rule and queues relinking its channel; false when it is not the clinic's.
pub async fn delete_field_rule(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    id: &str,
    now_ms: i64,
) -> anyhow::Result<bool> {
    let channel: Option<String> = sqlx::query_scalar(
        "DELETE FROM rich_menu_field_rules WHERE id = $1 AND clinic_id = $2 RETURNING channel_id",
    )
    .bind(id)
    .bind(clinic.as_str())
    .fetch_optional(&mut *conn)
    .await
    .context("deleting the rich menu field rule")?;
    let Some(channel) = channel else {
        return Ok(false);
    };
    queue_channel(conn, clinic, &ChannelId::from_db(channel), now_ms).await?;
    Ok(true)
}
