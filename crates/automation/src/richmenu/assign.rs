//! Which menu a person should see, and what LINE was last told (`rich_menu_links`).
use anyhow::Context;
use sqlx::AnyConnection;
use tsunagu_core::{ChannelId, ClinicId};

/// (our menu id, LINE's id) of the first rule on `channel` whose tag the patient has and
/// whose menu is on LINE; `None`: the default applies.
pub async fn desired_menu(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    channel: &ChannelId,
    patient: &str,
) -> anyhow::Result<Option<(String, String)>> {
    let tags = tsunagu_contacts::search::tags_of(conn, clinic, &[patient])
        .await?
        .remove(patient)
        .unwrap_or_default();
    if tags.is_empty() {
        return Ok(None);
    }
    let rules: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT r.tag, m.id, m.line_rich_menu_id FROM rich_menu_rules r
         JOIN rich_menus m ON m.id = r.rich_menu_id
         WHERE r.channel_id = $1 AND r.clinic_id = $2 AND m.state = 'published'
           AND m.line_rich_menu_id IS NOT NULL
         ORDER BY r.priority, r.id",
    )
    .bind(channel.as_str())
    .bind(clinic.as_str())
    .fetch_all(conn)
    .await
    .context("reading the channel's rich menu rules")?;
    Ok(rules
        .into_iter()
        .find(|(tag, _, _)| tags.contains(tag))
        .map(|(_, id, line)| (id, line)))
}

/// What LINE was last told for this person: `None` never told, `Some(None)` unlinked.
pub(super) async fn recorded(
    conn: &mut AnyConnection,
    identity: &str,
) -> anyhow::Result<Option<Option<String>>> {
    let row: Option<(Option<String>,)> =
        sqlx::query_as("SELECT rich_menu_id FROM rich_menu_links WHERE identity_id = $1")
            .bind(identity)
            .fetch_optional(conn)
            .await
            .context("reading the person's rich menu link")?;
    Ok(row.map(|(m,)| m))
}

pub(super) async fn record(
    conn: &mut AnyConnection,
    clinic: &str,
    channel: &str,
    identity: &str,
    menu: Option<&str>,
    now_ms: i64,
) -> anyhow::Result<()> {
    sqlx::query(
        "INSERT INTO rich_menu_links (identity_id, clinic_id, channel_id, rich_menu_id, updated_at)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (identity_id) DO UPDATE SET rich_menu_id = $4, updated_at = $5",
    )
    .bind(identity)
    .bind(clinic)
    .bind(channel)
    .bind(menu)
    .bind(now_ms)
    .execute(conn)
    .await
    .context("recording the person's rich menu link")?;
    Ok(())
}
