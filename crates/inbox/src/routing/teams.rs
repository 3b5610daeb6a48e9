//! Teams and their members, per clinic. Every query names the clinic: an id from another
//! clinic finds nothing.
use anyhow::Context;
use serde::Serialize;
use sqlx::{AnyConnection, FromRow};
use tsunagu_core::{new_id, ClinicId, Permission, Role};

/// How a team hands a waiting conversation to a member.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AssignMode {
    /// Conversations wait in the team's queue until someone takes them.
    Off,
    /// The available member given one least recently.
    RoundRobin,
    /// The available member with the fewest open conversations.
    LeastBusy,
}

impl AssignMode {
    pub fn parse(s: &str) -> Option<AssignMode> {
        match s {
            "off" => Some(AssignMode::Off),
            "round_robin" => Some(AssignMode::RoundRobin),
            "least_busy" => Some(AssignMode::LeastBusy),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            AssignMode::Off => "off",
            AssignMode::RoundRobin => "round_robin",
            AssignMode::LeastBusy => "least_busy",
        }
    }
}

#[derive(Clone, Debug, FromRow, Serialize)]
pub struct Team {
    pub id: String,
    pub clinic_id: String,
    pub name: String,
    pub assign_mode: String,
    pub created_at: i64,
}

impl Team {
    /// A mode this version does not know reads as off (fails closed: nobody is picked).
    pub fn mode(&self) -> AssignMode {
        AssignMode::parse(&self.assign_mode).unwrap_or(AssignMode::Off)
    }
}

/// A member as shown: name, availability and open load.
#[derive(Clone, Debug, FromRow, Serialize)]
pub struct TeamMember {
    pub team_id: String,
    pub staff_id: String,
    pub display_name: String,
}

const COLS: &str = "id, clinic_id, name, assign_mode, created_at";

pub async fn list(conn: &mut AnyConnection, clinic: &ClinicId) -> anyhow::Result<Vec<Team>> {
    sqlx::query_as(&format!(
        "SELECT {COLS} FROM teams WHERE clinic_id = $1 ORDER BY created_at, id"
    ))
    .bind(clinic.as_str())
    .fetch_all(conn)
    .await
    .context("listing the clinic's teams")
}

pub async fn get(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    id: &str,
) -> anyhow::Result<Option<Team>> {
    sqlx::query_as(&format!(
        "SELECT {COLS} FROM teams WHERE id = $1 AND clinic_id = $2"
    ))
    .bind(id)
    .bind(clinic.as_str())
    .fetch_optional(conn)
    .await
    .context("reading a team")
}

/// `None` when the clinic already has a team of that name.
pub async fn create(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    name: &str,
    mode: AssignMode,
    now: i64,
) -> anyhow::Result<Option<String>> {
    let id = new_id();
    let done = sqlx::query(
        "INSERT INTO teams (id, clinic_id, name, assign_mode, created_at) VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (clinic_id, name) DO NOTHING",
    )
    .bind(&id)
    .bind(clinic.as_str())
    .bind(name)
    .bind(mode.as_str())
    .bind(now)
    .execute(conn)
    .await
    .context("creating a team")?;
    Ok((done.rows_affected() == 1).then_some(id))
}

/// Renames and sets the mode; false when no such team here or the name is taken.
pub async fn update(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    id: &str,
    name: &str,
    mode: AssignMode,
) -> anyhow::Result<bool> {
    let taken: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM teams WHERE clinic_id = $1 AND name = $2 AND id <> $3",
    )
    .bind(clinic.as_str())
    .bind(name)
    .bind(id)
    .fetch_one(&mut *conn)
    .await
    .context("checking the team name")?;
    if taken > 0 {
        return Ok(false);
    }
    let done = sqlx::query(
        "UPDATE teams SET name = $1, assign_mode = $2 WHERE id = $3 AND clinic_id = $4",
    )
    .bind(name)
    .bind(mode.as_str())
    .bind(id)
    .bind(clinic.as_str())
    .execute(conn)
    .await
    .context("updating a team")?;
    Ok(done.rows_affected() == 1)
}

/// Deletes the team: its conversations keep their assignee and leave the team, channels that
/// sent new conversations to it send them nowhere. False when no such team here.
pub async fn delete(conn: &mut AnyConnection, clinic: &ClinicId, id: &str) -> anyhow::Result<bool> {
    if get(conn, clinic, id).await?.is_none() {
        return Ok(false);
    }
    let c = clinic.as_str();
    sqlx::query("UPDATE conversations SET team_id = NULL WHERE clinic_id = $1 AND team_id = $2")
        .bind(c)
        .bind(id)
        .execute(&mut *conn)
        .await
        .context("taking conversations out of the team")?;
    sqlx::query(
        "UPDATE channels SET default_team_id = NULL WHERE clinic_id = $1 AND default_team_id = $2",
    )
    .bind(c)
    .bind(id)
    .execute(&mut *conn)
    .await
    .context("clearing channels' default team")?;
    sqlx::query("DELETE FROM team_members WHERE team_id = $1")
        .bind(id)
        .execute(&mut *conn)
        .await
        .context("removing the team's members")?;
    let done = sqlx::query("DELETE FROM teams WHERE id = $1 AND clinic_id = $2")
        .bind(id)
        .bind(c)
        .execute(conn)
        .await
        .context("deleting the team")?;
    Ok(done.rows_affected() == 1)
}

/// Every member of the clinic's teams, by name.
pub async fn members(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
) -> anyhow::Result<Vec<TeamMember>> {
    sqlx::query_as(
        "SELECT tm.team_id, tm.staff_id, s.display_name
         FROM team_members tm JOIN teams t ON t.id = tm.team_id JOIN staff s ON s.id = tm.staff_id
         WHERE t.clinic_id = $1 ORDER BY s.display_name, s.id",
    )
    .bind(clinic.as_str())
    .fetch_all(conn)
    .await
    .context("listing team members")
}

/// Whether `staff_id` is staff of this clinic who may reply (and so may join a team or be
/// given a conversation), with their display name.
pub async fn replying_staff(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    staff_id: &str,
) -> anyhow::Result<Option<String>> {
    let row: Option<(String, String)> = sqlx::query_as(
        "SELECT s.display_name, m.role FROM memberships m JOIN staff s ON s.id = m.staff_id
         WHERE m.clinic_id = $1 AND m.staff_id = $2 AND s.disabled = 0",
    )
    .bind(clinic.as_str())
    .bind(staff_id)
    .fetch_optional(conn)
    .await
    .context("reading a staff member of the clinic")?;
    Ok(row.and_then(|(name, role)| {
        role.parse::<Role>()
            .is_ok_and(|r| r.can(Permission::Reply))
            .then_some(name)
    }))
}

/// Adds a member; false when the team or the staff member is not this clinic's (or may not
/// reply). Adding someone already there changes nothing and is true.
pub async fn add_member(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    team_id: &str,
    staff_id: &str,
) -> anyhow::Result<bool> {
    if get(conn, clinic, team_id).await?.is_none()
        || replying_staff(conn, clinic, staff_id).await?.is_none()
    {
        return Ok(false);
    }
    sqlx::query(
        "INSERT INTO team_members (team_id, staff_id) VALUES ($1, $2)
         ON CONFLICT (team_id, staff_id) DO NOTHING",
    )
    .bind(team_id)
    .bind(staff_id)
    .execute(conn)
    .await
    .context("adding a team member")?;
    Ok(true)
}

/// False when the team is not this clinic's or the person was not a member.
pub async fn remove_member(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    team_id: &str,
    staff_id: &str,
) -> anyhow::Result<bool> {
    if get(conn, clinic, team_id).await?.is_none() {
        return Ok(false);
    }
    let done = sqlx::query("DELETE FROM team_members WHERE team_id = $1 AND staff_id = $2")
        .bind(team_id)
        .bind(staff_id)
        .execute(conn)
        .await
        .context("removing a team member")?;
    Ok(done.rows_affected() == 1)
}

/// The team a channel's new conversations go to.
pub async fn channel_team(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    channel_id: &str,
) -> anyhow::Result<Option<String>> {
    let row: Option<Option<String>> =
        sqlx::query_scalar("SELECT default_team_id FROM channels WHERE id = $1 AND clinic_id = $2")
            .bind(channel_id)
            .bind(clinic.as_str())
            .fetch_optional(conn)
            .await
            .context("reading the channel's team")?;
    Ok(row.flatten())
}

/// Every channel of the clinic with its team: (channel id, team id).
pub async fn channel_teams(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
) -> anyhow::Result<Vec<(String, Option<String>)>> {
    sqlx::query_as("SELECT id, default_team_id FROM channels WHERE clinic_id = $1")
        .bind(clinic.as_str())
        .fetch_all(conn)
        .await
        .context("reading the channels' teams")
}

/// Sends a channel's new conversations to `team_id` (None: no team). False when the channel
/// or the team is not this clinic's.
pub async fn set_channel_team(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    channel_id: &str,
    team_id: Option<&str>,
) -> anyhow::Result<bool> {
    if let Some(t) = team_id {
        if get(conn, clinic, t).await?.is_none() {
            return Ok(false);
        }
    }
    let done =
        sqlx::query("UPDATE channels SET default_team_id = $1 WHERE id = $2 AND clinic_id = $3")
            .bind(team_id)
            .bind(channel_id)
            .bind(clinic.as_str())
            .execute(conn)
            .await
            .context("setting the channel's team")?;
    Ok(done.rows_affected() == 1)
}
