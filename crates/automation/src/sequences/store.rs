//! Sequences and their steps: the clinic's list with counts per state, one with its steps,
//! create and change from a checked [`Draft`], enable or disable. Every query is scoped by clinic.
use anyhow::Context;
use sqlx::{AnyConnection, FromRow};
use tsunagu_core::{new_id, ClinicId};
use tsunagu_privacy::consent::Purpose;

use super::timing::Timing;
use super::Trigger;

pub const MAX_NAME: usize = 50;
pub const MAX_STEPS: usize = 20;
pub const MAX_BODY: usize = 2000;
/// A step may wait up to a year.
pub const MAX_DELAY_MINUTES: i64 = 366 * 24 * 60;

#[derive(Clone, Debug)]
pub struct Sequence {
    pub id: String,
    pub name: String,
    pub purpose: Purpose,
    pub trigger: Trigger,
    pub goal_tag: Option<String>,
    pub reenroll: bool,
    pub enabled: bool,
    pub steps: Vec<SequenceStep>,
    pub updated_at: i64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SequenceStep {
    pub timing: Timing,
    pub body: String,
}

/// A sequence with how many patients are in each state.
#[derive(Clone, Debug)]
pub struct Listed {
    pub sequence: Sequence,
    pub active: i64,
    pub completed: i64,
    pub stopped: i64,
}

/// A sequence as typed (form, demo): checked by [`Draft::check`].
#[derive(Clone, Debug)]
pub struct Draft {
    pub name: String,
    pub purpose: Purpose,
    pub trigger: Trigger,
    pub goal_tag: Option<String>,
    pub reenroll: bool,
    pub enabled: bool,
    pub steps: Vec<SequenceStep>,
}

/// What is wrong with a draft: a stable key the page words (`drips.invalid.<key>`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Invalid {
    Name,
    Trigger,
    NoSteps,
    TooManySteps,
    StepBody,
    StepDelay,
    StepTime,
}

impl Invalid {
    pub fn key(self) -> &'static str {
        match self {
            Invalid::Name => "name",
            Invalid::Trigger => "trigger",
            Invalid::NoSteps => "no_steps",
            Invalid::TooManySteps => "too_many_steps",
            Invalid::StepBody => "step_body",
            Invalid::StepDelay => "step_delay",
            Invalid::StepTime => "step_time",
        }
    }
}

impl Draft {
    pub fn check(mut self) -> Result<Draft, Invalid> {
        self.name = self.name.trim().to_string();
        if self.name.is_empty() || self.name.chars().count() > MAX_NAME {
            return Err(Invalid::Name);
        }
        let blank = |s: &str| s.trim().is_empty();
        match &self.trigger {
            Trigger::TagAdded { tag } if blank(tag) => return Err(Invalid::Trigger),
            Trigger::FieldSet { field_id, value } if blank(field_id) || blank(value) => {
                return Err(Invalid::Trigger)
            }
            _ => {}
        }
        self.goal_tag = self
            .goal_tag
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty());
        if self.steps.is_empty() {
            return Err(Invalid::NoSteps);
        }
        if self.steps.len() > MAX_STEPS {
            return Err(Invalid::TooManySteps);
        }
        for s in &mut self.steps {
            s.body = s.body.trim().to_string();
            if s.body.is_empty() || s.body.chars().count() > MAX_BODY {
                return Err(Invalid::StepBody);
            }
            if !(0..=MAX_DELAY_MINUTES).contains(&s.timing.delay_minutes) {
                return Err(Invalid::StepDelay);
            }
            if s.timing
                .send_at_minute
                .is_some_and(|m| !(0..24 * 60).contains(&m))
            {
                return Err(Invalid::StepTime);
            }
        }
        Ok(self)
    }
}

#[derive(FromRow)]
struct Row {
    id: String,
    name: String,
    purpose: String,
    trigger_kind: String,
    trigger_channel_id: Option<String>,
    trigger_tag: Option<String>,
    trigger_field_id: Option<String>,
    trigger_value: Option<String>,
    goal_tag: Option<String>,
    reenroll: i64,
    enabled: i64,
    updated_at: i64,
}

const COLS: &str = "id, name, purpose, trigger_kind, trigger_channel_id, trigger_tag, trigger_field_id, trigger_value, goal_tag, reenroll, enabled, updated_at";

impl Row {
    /// `None` for a row this version cannot read (fails closed: never sent).
    fn read(self, steps: Vec<SequenceStep>) -> Option<Sequence> {
        let trigger = match self.trigger_kind.as_str() {
            "friend_added" => Trigger::FriendAdded {
                channel_id: self.trigger_channel_id,
            },
            "tag_added" => Trigger::TagAdded {
                tag: self.trigger_tag?,
            },
            "field_set" => Trigger::FieldSet {
                field_id: self.trigger_field_id?,
                value: self.trigger_value?,
            },
            _ => return None,
        };
        Some(Sequence {
            id: self.id,
            name: self.name,
            purpose: Purpose::parse(&self.purpose)?,
            trigger,
            goal_tag: self.goal_tag,
            reenroll: self.reenroll != 0,
            enabled: self.enabled != 0,
            steps,
            updated_at: self.updated_at,
        })
    }
}

async fn steps_of(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    id: &str,
) -> anyhow::Result<Vec<SequenceStep>> {
    let rows: Vec<(i64, i64, Option<i64>, i64, String)> = sqlx::query_as(
        "SELECT delay_minutes, after_previous, send_at_minute, open_hours_only, body
         FROM sequence_steps WHERE sequence_id = $1 AND clinic_id = $2 ORDER BY position",
    )
    .bind(id)
    .bind(clinic.as_str())
    .fetch_all(conn)
    .await
    .context("reading a sequence's steps")?;
    Ok(rows
        .into_iter()
        .map(|(delay, after, at, open, body)| SequenceStep {
            timing: Timing {
                delay_minutes: delay,
                after_previous: after != 0,
                send_at_minute: at,
                open_hours_only: open != 0,
            },
            body,
        })
        .collect())
}

pub async fn get(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    id: &str,
) -> anyhow::Result<Option<Sequence>> {
    let row: Option<Row> = sqlx::query_as(&format!(
        "SELECT {COLS} FROM sequences WHERE id = $1 AND clinic_id = $2"
    ))
    .bind(id)
    .bind(clinic.as_str())
    .fetch_optional(&mut *conn)
    .await
    .context("reading a sequence")?;
    let Some(row) = row else { return Ok(None) };
    let steps = steps_of(conn, clinic, id).await?;
    Ok(row.read(steps))
}

/// The clinic's enabled sequences with this kind of trigger (steps included).
pub async fn enabled_with(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    trigger_kind: &str,
) -> anyhow::Result<Vec<Sequence>> {
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "SELECT {COLS} FROM sequences WHERE clinic_id = $1 AND trigger_kind = $2 AND enabled = 1 ORDER BY created_at, id"
    ))
    .bind(clinic.as_str())
    .bind(trigger_kind)
    .fetch_all(&mut *conn)
    .await
    .context("reading the sequences a trigger may start")?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let steps = steps_of(conn, clinic, &r.id).await?;
        out.extend(r.read(steps));
    }
    Ok(out)
}

/// Every sequence of the clinic, oldest first, with its counts.
pub async fn list(conn: &mut AnyConnection, clinic: &ClinicId) -> anyhow::Result<Vec<Listed>> {
    let rows: Vec<Row> = sqlx::query_as(&format!(
        "SELECT {COLS} FROM sequences WHERE clinic_id = $1 ORDER BY created_at, id"
    ))
    .bind(clinic.as_str())
    .fetch_all(&mut *conn)
    .await
    .context("listing the sequences")?;
    let counts: Vec<(String, String, i64)> = sqlx::query_as(
        "SELECT sequence_id, state, COUNT(*) FROM sequence_enrollments WHERE clinic_id = $1
         GROUP BY sequence_id, state",
    )
    .bind(clinic.as_str())
    .fetch_all(&mut *conn)
    .await
    .context("counting the enrollments per sequence")?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let steps = steps_of(conn, clinic, &r.id).await?;
        let Some(sequence) = r.read(steps) else {
            continue;
        };
        let n = |state: &str| {
            counts
                .iter()
                .find(|(s, st, _)| *s == sequence.id && st == state)
                .map_or(0, |c| c.2)
        };
        out.push(Listed {
            active: n("active"),
            completed: n("completed"),
            stopped: n("stopped"),
            sequence,
        });
    }
    Ok(out)
}

fn trigger_cols(t: &Trigger) -> [Option<&str>; 4] {
    match t {
        Trigger::FriendAdded { channel_id } => [channel_id.as_deref(), None, None, None],
        Trigger::TagAdded { tag } => [None, Some(tag), None, None],
        Trigger::FieldSet { field_id, value } => [None, None, Some(field_id), Some(value)],
    }
}

async fn write_steps(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    id: &str,
    steps: &[SequenceStep],
) -> anyhow::Result<()> {
    sqlx::query("DELETE FROM sequence_steps WHERE sequence_id = $1 AND clinic_id = $2")
        .bind(id)
        .bind(clinic.as_str())
        .execute(&mut *conn)
        .await
        .context("clearing a sequence's steps")?;
    for (i, s) in steps.iter().enumerate() {
        sqlx::query(
            "INSERT INTO sequence_steps (sequence_id, clinic_id, position, delay_minutes, after_previous, send_at_minute, open_hours_only, body)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(id)
        .bind(clinic.as_str())
        .bind(i as i64)
        .bind(s.timing.delay_minutes)
        .bind(s.timing.after_previous as i64)
        .bind(s.timing.send_at_minute)
        .bind(s.timing.open_hours_only as i64)
        .bind(&s.body)
        .execute(&mut *conn)
        .await
        .context("storing a sequence step")?;
    }
    Ok(())
}

/// Stores a checked draft as a new sequence; its id.
pub async fn create(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    d: &Draft,
    now_ms: i64,
) -> anyhow::Result<String> {
    let id = new_id();
    let [ch, tag, field, value] = trigger_cols(&d.trigger);
    sqlx::query(
        "INSERT INTO sequences (id, clinic_id, name, purpose, trigger_kind, trigger_channel_id, trigger_tag, trigger_field_id, trigger_value, goal_tag, reenroll, enabled, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13)",
    )
    .bind(&id)
    .bind(clinic.as_str())
    .bind(&d.name)
    .bind(d.purpose.code())
    .bind(d.trigger.kind())
    .bind(ch)
    .bind(tag)
    .bind(field)
    .bind(value)
    .bind(d.goal_tag.as_deref())
    .bind(d.reenroll as i64)
    .bind(d.enabled as i64)
    .bind(now_ms)
    .execute(&mut *conn)
    .await
    .context("storing a sequence")?;
    write_steps(conn, clinic, &id, &d.steps).await?;
    Ok(id)
}

/// Changes a sequence; `false` when it is not the clinic's. Active enrollments go on with the
/// new steps from where they are (or stop, when it is saved as off).
pub async fn update(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    id: &str,
    d: &Draft,
    now_ms: i64,
) -> anyhow::Result<bool> {
    let [ch, tag, field, value] = trigger_cols(&d.trigger);
    let done = sqlx::query(
        "UPDATE sequences SET name = $3, purpose = $4, trigger_kind = $5, trigger_channel_id = $6, trigger_tag = $7,
         trigger_field_id = $8, trigger_value = $9, goal_tag = $10, reenroll = $11, enabled = $12, updated_at = $13
         WHERE id = $1 AND clinic_id = $2",
    )
    .bind(id)
    .bind(clinic.as_str())
    .bind(&d.name)
    .bind(d.purpose.code())
    .bind(d.trigger.kind())
    .bind(ch)
    .bind(tag)
    .bind(field)
    .bind(value)
    .bind(d.goal_tag.as_deref())
    .bind(d.reenroll as i64)
    .bind(d.enabled as i64)
    .bind(now_ms)
    .execute(&mut *conn)
    .await
    .context("changing a sequence")?;
    if done.rows_affected() == 0 {
        return Ok(false);
    }
    write_steps(conn, clinic, id, &d.steps).await?;
    if !d.enabled {
        // Saved as off: as `set_enabled(false)`, its active enrollments stop.
        let off = super::StopReason::SequenceDisabled;
        super::enrollments::stop_all_of_sequence(conn, clinic, id, off, now_ms).await?;
    }
    Ok(true)
}

/// Whether the trigger's channel or custom field is the clinic's own (a tag always is).
pub async fn trigger_is_ours(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    t: &Trigger,
) -> anyhow::Result<bool> {
    Ok(match t {
        Trigger::FriendAdded {
            channel_id: Some(ch),
        } => tsunagu_store::channels::list(&mut *conn, clinic)
            .await?
            .iter()
            .any(|x| &x.id == ch),
        Trigger::FieldSet { field_id, .. } => tsunagu_contacts::fields::list(conn, clinic)
            .await?
            .iter()
            .any(|f| &f.id == field_id),
        _ => true,
    })
}

/// Removes a sequence with its steps and enrollments; `false` when it is not the clinic's.
/// Pending step jobs then find no enrollment and send nothing; messages already sent stay.
pub async fn delete(conn: &mut AnyConnection, clinic: &ClinicId, id: &str) -> anyhow::Result<bool> {
    for sql in [
        "DELETE FROM sequence_enrollments WHERE sequence_id = $1 AND clinic_id = $2",
        "DELETE FROM sequence_steps WHERE sequence_id = $1 AND clinic_id = $2",
    ] {
        sqlx::query(sql)
            .bind(id)
            .bind(clinic.as_str())
            .execute(&mut *conn)
            .await
            .context("deleting a sequence's steps and enrollments")?;
    }
    let done = sqlx::query("DELETE FROM sequences WHERE id = $1 AND clinic_id = $2")
        .bind(id)
        .bind(clinic.as_str())
        .execute(conn)
        .await
        .context("deleting a sequence")?;
    Ok(done.rows_affected() == 1)
}

/// Turns a sequence on or off; `false` when it is not the clinic's. Turning it off stops its
/// active enrollments (`sequence_disabled`): their pending step jobs then find nothing to send.
pub async fn set_enabled(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    id: &str,
    enabled: bool,
    now_ms: i64,
) -> anyhow::Result<bool> {
    let done = sqlx::query(
        "UPDATE sequences SET enabled = $3, updated_at = $4 WHERE id = $1 AND clinic_id = $2",
    )
    .bind(id)
    .bind(clinic.as_str())
    .bind(enabled as i64)
    .bind(now_ms)
    .execute(&mut *conn)
    .await
    .context("turning a sequence on or off")?;
    if done.rows_affected() == 0 {
        return Ok(false);
    }
    if !enabled {
        super::enrollments::stop_all_of_sequence(
            conn,
            clinic,
            id,
            super::StopReason::SequenceDisabled,
            now_ms,
        )
        .await?;
    }
    Ok(true)
}
