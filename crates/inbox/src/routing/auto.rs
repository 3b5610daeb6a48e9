//! Automatic assignment, run by the `inbound.dispatch` job for a conversation nobody has: it
//! joins its channel's team (if it has none) and, when that team assigns automatically, goes to
//! an online member under capacity — round-robin (given one least recently) or least-busy
//! (fewest open, then least recently). Nobody available: it waits in the team's queue.
//!
//! Under concurrency each pick is a compare-and-set on the member's `staff_routing` row: the
//! member's ticket, read in the same statement as their open load, must still be the one read,
//! and the conversation must still be unassigned; both updates commit together. A dispatch that
//! loses reads again, so two at once never fill the same free slot and round-robin never gives
//! the same member two while another is free. (On PostgreSQL the loser waits on the row lock
//! and then finds the ticket moved; on SQLite the first write takes the database's write lock.)
use anyhow::Context;
use sqlx::{AnyConnection, FromRow};
use tsunagu_core::{ClinicId, Permission, Role};
use tsunagu_privacy::audit::{self, Actor, AuditEntry};
use tsunagu_store::Db;

use super::assign::{current, system_line, Line};
use super::teams::{self, AssignMode};

/// Tries before giving up on a storm of competing dispatches (each loss means someone else got
/// a conversation, so progress is made).
const ATTEMPTS: usize = 20;

#[derive(Debug, PartialEq, Eq)]
pub enum Routed {
    /// Already someone's, or no team: nothing to do.
    Untouched,
    /// In the team's queue (team off, or nobody available).
    Queued {
        team_id: String,
    },
    Assigned {
        team_id: String,
        staff_id: String,
    },
}

#[derive(Debug, FromRow)]
struct Candidate {
    staff_id: String,
    display_name: String,
    role: String,
    capacity: i64,
    assign_ticket: i64,
    open_assigned: i64,
}

pub async fn route_inbound(
    db: &Db,
    clinic: &ClinicId,
    conversation_id: &str,
    now: i64,
) -> anyhow::Result<Routed> {
    let mut conn = db.pool().acquire().await?;
    let Some((assignee, team, channel)) = current(&mut conn, clinic, conversation_id).await? else {
        return Ok(Routed::Untouched);
    };
    if assignee.is_some() {
        return Ok(Routed::Untouched);
    }
    let team_id = match team {
        Some(t) => t,
        None => match teams::channel_team(&mut conn, clinic, &channel).await? {
            Some(t) => {
                join_team(&mut conn, clinic, conversation_id, &t).await?;
                t
            }
            None => return Ok(Routed::Untouched),
        },
    };
    let Some(team) = teams::get(&mut conn, clinic, &team_id).await? else {
        return Ok(Routed::Untouched);
    };
    let mode = team.mode();
    if mode == AssignMode::Off {
        return Ok(Routed::Queued { team_id });
    }
    // The claim takes a connection of its own: give this one back, so many dispatches at
    // once never each hold one while waiting for another.
    drop(conn);
    for _ in 0..ATTEMPTS {
        let mut conn = db.pool().acquire().await?;
        let mut free = candidates(&mut conn, clinic, &team_id).await?;
        drop(conn);
        free.retain(|c| {
            c.open_assigned < c.capacity
                && c.role
                    .parse::<Role>()
                    .is_ok_and(|r| r.can(Permission::Reply))
        });
        free.sort_by(|a, b| {
            let load = |c: &Candidate| match mode {
                AssignMode::LeastBusy => c.open_assigned,
                _ => 0,
            };
            (load(a), a.assign_ticket, &a.staff_id).cmp(&(load(b), b.assign_ticket, &b.staff_id))
        });
        let Some(pick) = free.first() else {
            return Ok(Routed::Queued { team_id });
        };
        let claim = Claim {
            clinic,
            conversation_id,
            channel_id: &channel,
            team_name: &team.name,
        };
        match try_claim(db, &claim, pick, now).await? {
            Claimed::Yes => {
                return Ok(Routed::Assigned {
                    team_id,
                    staff_id: pick.staff_id.clone(),
                })
            }
            Claimed::ConversationTaken => return Ok(Routed::Untouched),
            Claimed::MemberMoved => continue,
        }
    }
    tracing::warn!(
        conversation = conversation_id,
        "automatic assignment gave up after many races"
    );
    Ok(Routed::Queued { team_id })
}

async fn join_team(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    conversation_id: &str,
    team_id: &str,
) -> anyhow::Result<()> {
    sqlx::query(
        "UPDATE conversations SET team_id = $1
         WHERE id = $2 AND clinic_id = $3 AND team_id IS NULL AND assignee_id IS NULL",
    )
    .bind(team_id)
    .bind(conversation_id)
    .bind(clinic.as_str())
    .execute(conn)
    .await
    .context("putting the conversation in its channel's team")?;
    Ok(())
}

/// Online members of the team with their ticket and open load, read in one statement (one
/// snapshot), so a ticket still unchanged at the claim means the load read is still true.
async fn candidates(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    team_id: &str,
) -> anyhow::Result<Vec<Candidate>> {
    sqlx::query_as(
        "SELECT r.staff_id, s.display_name, m.role, r.capacity, r.assign_ticket,
                (SELECT COUNT(*) FROM conversations c
                  WHERE c.clinic_id = r.clinic_id AND c.assignee_id = r.staff_id
                    AND c.status = 'open') AS open_assigned
         FROM team_members tm
         JOIN teams t ON t.id = tm.team_id
         JOIN staff_routing r ON r.clinic_id = t.clinic_id AND r.staff_id = tm.staff_id
         JOIN memberships m ON m.clinic_id = t.clinic_id AND m.staff_id = tm.staff_id
         JOIN staff s ON s.id = tm.staff_id
         WHERE tm.team_id = $1 AND t.clinic_id = $2 AND r.availability = 'online'
           AND s.disabled = 0",
    )
    .bind(team_id)
    .bind(clinic.as_str())
    .fetch_all(conn)
    .await
    .context("reading the team's available members")
}

struct Claim<'a> {
    clinic: &'a ClinicId,
    conversation_id: &'a str,
    channel_id: &'a str,
    team_name: &'a str,
}

enum Claimed {
    Yes,
    /// Someone else's meanwhile: leave it.
    ConversationTaken,
    /// The member was given another or went away meanwhile: read again.
    MemberMoved,
}

async fn try_claim(db: &Db, c: &Claim<'_>, pick: &Candidate, now: i64) -> anyhow::Result<Claimed> {
    let mut tx = db.begin().await?;
    // The first statement writes, so SQLite takes its write lock before reading anything here.
    let took = sqlx::query(
        "UPDATE staff_routing
            SET assign_ticket = (SELECT MAX(assign_ticket) FROM staff_routing WHERE clinic_id = $1) + 1
          WHERE clinic_id = $1 AND staff_id = $2 AND assign_ticket = $3 AND availability = 'online'",
    )
    .bind(c.clinic.as_str())
    .bind(&pick.staff_id)
    .bind(pick.assign_ticket)
    .execute(tx.conn())
    .await
    .context("claiming a member's slot")?;
    if took.rows_affected() != 1 {
        return Ok(Claimed::MemberMoved);
    }
    let given = sqlx::query(
        "UPDATE conversations SET assignee_id = $1
          WHERE id = $2 AND clinic_id = $3 AND assignee_id IS NULL",
    )
    .bind(&pick.staff_id)
    .bind(c.conversation_id)
    .bind(c.clinic.as_str())
    .execute(tx.conn())
    .await
    .context("assigning the conversation automatically")?;
    if given.rows_affected() != 1 {
        return Ok(Claimed::ConversationTaken); // dropped: rolled back, the ticket kept
    }
    let text = format!(
        "チーム「{}」から{}さんに自動で割り当てました",
        c.team_name, pick.display_name
    );
    let payload =
        serde_json::json!({"event": "assignment", "auto": true, "staff_id": pick.staff_id})
            .to_string();
    let line = Line {
        clinic: c.clinic,
        conversation_id: c.conversation_id,
        channel_id: c.channel_id,
        text: &text,
        payload: &payload,
        author: None,
    };
    system_line(tx.conn(), line, now).await?;
    let entry = AuditEntry {
        clinic_id: Some(c.clinic),
        actor: &Actor::System,
        action: "conversation.assign",
        subject_type: Some("conversation"),
        subject_ids: &[c.conversation_id, pick.staff_id.as_str()],
        source_ip: None,
    };
    audit::record(tx.conn(), db.backend(), entry, now).await?;
    tx.commit().await?;
    Ok(Claimed::Yes)
}
