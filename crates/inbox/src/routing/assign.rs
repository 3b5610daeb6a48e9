//! Giving a conversation to a colleague and/or a team by hand (UI and API), taking it back,
//! moving it. One transaction: the change, a system line in Japanese saying who did what
//! ("山田さんが佐藤さんに割り当てました"), the audit entry. Ids from another clinic find
//! nothing and change nothing.
use anyhow::Context;
use sqlx::AnyConnection;
use tsunagu_core::{ChannelId, ClinicId, ConversationId};
use tsunagu_privacy::audit::{self, Actor, AuditEntry};
use tsunagu_store::conversations::{self, NewMessage};
use tsunagu_store::{Backend, Db};

use super::teams;

/// What to change; `None` leaves that part as it is, `Some(None)` clears it.
#[derive(Clone, Copy, Debug, Default)]
pub struct Target<'a> {
    pub staff: Option<Option<&'a str>>,
    pub team: Option<Option<&'a str>>,
}

/// Who asks, for the line and the trail.
pub struct By<'a> {
    pub actor: &'a Actor,
    pub source_ip: Option<&'a str>,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Change {
    Changed,
    /// Already so: nothing written.
    Unchanged,
    /// The conversation, the staff member or the team is not this clinic's (or the person may
    /// not reply): nothing written.
    NotFound,
}

pub async fn assign(
    db: &Db,
    clinic: &ClinicId,
    conversation_id: &str,
    target: Target<'_>,
    by: By<'_>,
    now: i64,
) -> anyhow::Result<Change> {
    let mut tx = db.begin().await?;
    let r = assign_in(
        tx.conn(),
        db.backend(),
        clinic,
        conversation_id,
        target,
        by,
        now,
    )
    .await?;
    if r == Change::Changed {
        tx.commit().await?;
    }
    Ok(r)
}

/// [`assign`] within the caller's transaction (bulk changes commit all or nothing).
pub async fn assign_in(
    conn: &mut AnyConnection,
    backend: Backend,
    clinic: &ClinicId,
    conversation_id: &str,
    target: Target<'_>,
    by: By<'_>,
    now: i64,
) -> anyhow::Result<Change> {
    let Some((assignee, team, channel)) = current(conn, clinic, conversation_id).await? else {
        return Ok(Change::NotFound);
    };
    let mut parts = Vec::new();
    let (mut new_staff, mut new_team) = (assignee.clone(), team.clone());
    if let Some(s) = target.staff {
        let name = match s {
            Some(id) => match teams::replying_staff(conn, clinic, id).await? {
                Some(n) => Some(n),
                None => return Ok(Change::NotFound),
            },
            None => None,
        };
        if s != assignee.as_deref() {
            new_staff = s.map(str::to_string);
            parts.push(staff_phrase(by.actor, s, name.as_deref()));
        }
    }
    if let Some(t) = target.team {
        let name = match t {
            Some(id) => match teams::get(conn, clinic, id).await? {
                Some(team) => Some(team.name),
                None => return Ok(Change::NotFound),
            },
            None => None,
        };
        if t != team.as_deref() {
            new_team = t.map(str::to_string);
            parts.push(match name {
                Some(n) => format!("チーム「{n}」に割り当てました"),
                None => "チームの割り当てを外しました".to_string(),
            });
        }
    }
    if parts.is_empty() {
        return Ok(Change::Unchanged);
    }
    sqlx::query(
        "UPDATE conversations SET assignee_id = $1, team_id = $2 WHERE id = $3 AND clinic_id = $4",
    )
    .bind(new_staff.as_deref())
    .bind(new_team.as_deref())
    .bind(conversation_id)
    .bind(clinic.as_str())
    .execute(&mut *conn)
    .await
    .context("assigning the conversation")?;
    let who = who(conn, by.actor).await?;
    let text = format!("{who}{}", sentence(&parts));
    let payload = serde_json::json!({
        "event": "assignment",
        "staff_id": new_staff,
        "team_id": new_team,
    })
    .to_string();
    let line = Line {
        clinic,
        conversation_id,
        channel_id: &channel,
        text: &text,
        payload: &payload,
        author: match by.actor {
            Actor::Staff(id) => Some(id.as_str()),
            _ => None,
        },
    };
    system_line(conn, line, now).await?;
    let subjects: Vec<&str> = std::iter::once(conversation_id)
        .chain(new_staff.as_deref())
        .chain(new_team.as_deref())
        .collect();
    let entry = AuditEntry {
        clinic_id: Some(clinic),
        actor: by.actor,
        action: "conversation.assign",
        subject_type: Some("conversation"),
        subject_ids: &subjects,
        source_ip: by.source_ip,
    };
    audit::record(&mut *conn, backend, entry, now).await?;
    Ok(Change::Changed)
}

/// (assignee, team, channel) of a conversation of this clinic.
pub async fn current(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    id: &str,
) -> anyhow::Result<Option<(Option<String>, Option<String>, String)>> {
    sqlx::query_as(
        "SELECT assignee_id, team_id, channel_id FROM conversations WHERE id = $1 AND clinic_id = $2",
    )
    .bind(id)
    .bind(clinic.as_str())
    .fetch_optional(conn)
    .await
    .context("reading the conversation's assignment")
}

/// "佐藤さん（チーム「看護」）に割り当てました" when a person and a team are given at once, else
/// the phrases in turn.
fn sentence(parts: &[String]) -> String {
    const GIVEN: &str = "に割り当てました";
    if let [person, team] = parts {
        if let (Some(p), Some(t)) = (person.strip_suffix(GIVEN), team.strip_suffix(GIVEN)) {
            if p.ends_with("さん") && t.starts_with("チーム") {
                return format!("{p}（{t}）{GIVEN}");
            }
        }
    }
    parts.join("、")
}

fn staff_phrase(actor: &Actor, to: Option<&str>, name: Option<&str>) -> String {
    let me = matches!(actor, Actor::Staff(id) if Some(id.as_str()) == to);
    match (to, name) {
        (Some(_), _) if me => "担当になりました".to_string(),
        (Some(_), Some(n)) => format!("{n}さんに割り当てました"),
        _ => "担当を外しました".to_string(),
    }
}

/// "山田さんが", "API連携から": the start of the line.
async fn who(conn: &mut AnyConnection, actor: &Actor) -> anyhow::Result<String> {
    Ok(match actor {
        Actor::Staff(id) => {
            let name: Option<String> =
                sqlx::query_scalar("SELECT display_name FROM staff WHERE id = $1")
                    .bind(id)
                    .fetch_optional(conn)
                    .await
                    .context("reading the staff member's name")?;
            format!("{}さんが", name.unwrap_or_else(|| "スタッフ".into()))
        }
        Actor::Token(_) => "API連携から".to_string(),
        _ => String::new(),
    })
}

pub(super) struct Line<'a> {
    pub clinic: &'a ClinicId,
    pub conversation_id: &'a str,
    pub channel_id: &'a str,
    pub text: &'a str,
    pub payload: &'a str,
    pub author: Option<&'a str>,
}

/// The line in the conversation; it does not move the conversation up the list.
pub(super) async fn system_line(
    conn: &mut AnyConnection,
    l: Line<'_>,
    now: i64,
) -> anyhow::Result<()> {
    let conv = ConversationId::from_db(l.conversation_id.to_string());
    let channel = ChannelId::from_db(l.channel_id.to_string());
    conversations::insert_quiet_line(
        conn,
        NewMessage {
            clinic_id: l.clinic,
            conversation_id: &conv,
            channel_id: &channel,
            direction: "system",
            kind: "system",
            body: Some(l.text),
            payload: l.payload,
            sender_identity_id: None,
            author_kind: "system",
            author_staff_id: l.author,
            provider_message_id: None,
            status: "received",
            at_ms: now,
        },
    )
    .await?;
    Ok(())
}
