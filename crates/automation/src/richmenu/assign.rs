//! Which menu a person should see, and what LINE was last told (`rich_menu_links`).
use anyhow::Context;
use sqlx::AnyConnection;
use tsunagu_core::text::match_form;
use tsunagu_core::{ChannelId, ClinicId};

/// (our menu id, LINE's id) of the first rule on `channel` — a tag the patient has, or a
/// custom field of theirs with the rule's value (compared in `match_form`) — whose menu is on
/// LINE; tag and field rules share one priority order. `None`: the default applies.
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
    let values: Vec<(String, String)> = sqlx::query_as(
        "SELECT f.key, v.value FROM patient_field_values v JOIN custom_fields f ON f.id = v.field_id
         WHERE v.clinic_id = $1 AND v.patient_id = $2",
    )
    .bind(clinic.as_str())
    .bind(patient)
    .fetch_all(&mut *conn)
    .await
    .context("reading the patient's custom fields")?;
    if tags.is_empty() && values.is_empty() {
        return Ok(None);
    }
    // (priority, kind: tag | field, tag or field key, field value, menu, LINE's menu)
    type RuleRow = (i64, String, String, String, String, String);
    let rules: Vec<RuleRow> = sqlx::query_as(
        "SELECT r.priority, 'tag', r.tag, '', m.id, m.line_rich_menu_id FROM rich_menu_rules r
         JOIN rich_menus m ON m.id = r.rich_menu_id
         WHERE r.channel_id = $1 AND r.clinic_id = $2 AND m.state = 'published'
           AND m.line_rich_menu_id IS NOT NULL
         UNION ALL
         SELECT r.priority, 'field', r.field_key, r.value, m.id, m.line_rich_menu_id
         FROM rich_menu_field_rules r JOIN rich_menus m ON m.id = r.rich_menu_id
         WHERE r.channel_id = $1 AND r.clinic_id = $2 AND m.state = 'published'
           AND m.line_rich_menu_id IS NOT NULL
         ORDER BY 1, 2",
    )
    .bind(channel.as_str())
    .bind(clinic.as_str())
    .fetch_all(conn)
    .await
    .context("reading the channel's rich menu rules")?;
    let has_field = |key: &str, want: &str| {
        values
            .iter()
            .any(|(k, v)| k == key && match_form(v) == match_form(want))
    };
    Ok(rules
        .into_iter()
        .find(|(_, kind, key, value, _, _)| match kind.as_str() {
            "tag" => tags.contains(key),
            _ => has_field(key, value),
        })
        .map(|(_, _, _, _, id, line)| (id, line)))
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
