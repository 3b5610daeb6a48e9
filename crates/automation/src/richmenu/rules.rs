//! `rich_menu_rules`: "patients with tag X get menu Y", first match by priority.
use anyhow::Context;
use serde::Serialize;
use sqlx::{AnyConnection, FromRow};
use tsunagu_core::{new_id, ClinicId, Code, Refusal};

use super::store::{get, queue_channel};

#[derive(Clone, Debug, FromRow, Serialize)]
pub struct Rule {
    pub id: String,
    pub channel_id: String,
    pub tag: String,
    pub rich_menu_id: String,
    pub menu_name: String,
    pub priority: i64,
}

/// The clinic's rules, in the order they are tried.
pub async fn rules(conn: &mut AnyConnection, clinic: &ClinicId) -> anyhow::Result<Vec<Rule>> {
    sqlx::query_as(
        "SELECT r.id, r.channel_id, r.tag, r.rich_menu_id, m.name AS menu_name, r.priority
         FROM rich_menu_rules r JOIN rich_menus m ON m.id = r.rich_menu_id
         WHERE r.clinic_id = $1 ORDER BY r.channel_id, r.priority, r.id",
    )
    .bind(clinic.as_str())
    .fetch_all(conn)
    .await
    .context("listing the rich menu rules")
}

/// Adds a rule after the channel's others and queues relinking the channel.
pub async fn add_rule(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    menu_id: &str,
    tag: &str,
    now_ms: i64,
) -> anyhow::Result<Result<String, Refusal>> {
    let tag = tag.trim();
    if tag.is_empty() || tag.chars().count() > 50 {
        return Ok(Err(Refusal::new(Code::InvalidTag)));
    }
    let Some(menu) = get(conn, clinic, menu_id).await? else {
        return Ok(Err(Refusal::new(Code::NotFound)));
    };
    let taken: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM rich_menu_rules WHERE channel_id = $1 AND tag = $2",
    )
    .bind(&menu.channel_id)
    .bind(tag)
    .fetch_one(&mut *conn)
    .await
    .context("checking the rich menu rules")?;
    if taken > 0 {
        return Ok(Err(Refusal::new(Code::RichMenuRuleExists)));
    }
    let next = super::field_rules::next_priority(conn, &menu.channel_id).await?;
    let id = new_id();
    sqlx::query(
        "INSERT INTO rich_menu_rules (id, clinic_id, channel_id, tag, rich_menu_id, priority, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&id)
    .bind(clinic.as_str())
    .bind(&menu.channel_id)
    .bind(tag)
    .bind(menu_id)
    .bind(next)
    .bind(now_ms)
    .execute(&mut *conn)
    .await
    .context("adding the rich menu rule")?;
    queue_channel(conn, clinic, &menu.channel(), now_ms).await?;
    Ok(Ok(id))
}

/// Removes a rule and queues relinking its channel; false when it is not the clinic's.
pub async fn delete_rule(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    id: &str,
    now_ms: i64,
) -> anyhow::Result<bool> {
    let channel: Option<String> = sqlx::query_scalar(
        "DELETE FROM rich_menu_rules WHERE id = $1 AND clinic_id = $2 RETURNING channel_id",
    )
    .bind(id)
    .bind(clinic.as_str())
    .fetch_optional(&mut *conn)
    .await
    .context("deleting the rich menu rule")?;
    let Some(channel) = channel else {
        return Ok(false);
    };
    let channel = tsunagu_core::ChannelId::from_db(channel);
    queue_channel(conn, clinic, &channel, now_ms).await?;
    Ok(true)
}
