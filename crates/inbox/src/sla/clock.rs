//! A conversation's service-level clocks as wall instants: computed from its clock starts, the
//! clinic's targets and its calendar, loaded once per page ([`Clocks::load`]) and asked per row
//! ([`Clocks::of`]), which is pure arithmetic.
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::AnyConnection;
use tsunagu_calendar::Schedule;
use tsunagu_core::{ClinicId, ConversationStatus};
use tsunagu_store::conversations::Conversation;

use super::targets::{self, Targets};

/// How a clock stands; ordered from calm to breached, so the worst is the max.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Level {
    Ok,
    Warning,
    Breached,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Ok => "ok",
            Self::Warning => "warning",
            Self::Breached => "breached",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// 返信期限: the patient waits for a staff reply.
    FirstResponse,
    /// 解決期限: the conversation waits to be resolved.
    Resolution,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::FirstResponse => "first_response",
            Self::Resolution => "resolution",
        }
    }
}

/// One running clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Clock {
    pub kind: Kind,
    pub started_at: DateTime<Utc>,
    /// When it turns amber (`None`: no warning set).
    pub warn_at: Option<DateTime<Utc>>,
    pub due_at: DateTime<Utc>,
    pub level: Level,
}

/// The clocks running for one conversation (at least one).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ServiceLevel {
    pub first_response: Option<Clock>,
    pub resolution: Option<Clock>,
}

impl ServiceLevel {
    /// The worse of the two.
    pub fn level(&self) -> Level {
        self.clocks().map(|c| c.level).max().unwrap_or(Level::Ok)
    }

    pub fn clocks(&self) -> impl Iterator<Item = &Clock> {
        self.first_response.iter().chain(self.resolution.iter())
    }
}

/// A clinic's targets and calendar, enough to compute any of its conversations' clocks.
#[derive(Clone, Debug)]
pub struct Clocks {
    pub targets: Targets,
    pub schedule: Schedule,
}

impl Clocks {
    /// The clinic's clocks, or `None` when it set no target (then the calendar is not read).
    pub async fn load(conn: &mut AnyConnection, clinic: &ClinicId) -> anyhow::Result<Option<Self>> {
        let targets = targets::load(&mut *conn, clinic).await?;
        if targets.is_off() {
            return Ok(None);
        }
        let Some(calendar) = tsunagu_calendar::store::load(conn, clinic).await? else {
            return Ok(None);
        };
        Ok(Some(Self {
            targets,
            schedule: calendar.schedule,
        }))
    }

    /// The clocks running for `c` at `now_ms`, or `None` when none runs (resolved, snoozed,
    /// nobody waiting, no target, or a calendar that never opens).
    pub fn of(&self, c: &Conversation, now_ms: i64) -> Option<ServiceLevel> {
        let state = ConversationStatus::effective(&c.status, c.snoozed_until, now_ms);
        let now = DateTime::from_timestamp_millis(now_ms)?;
        let first_response = match (state, c.waiting_since, self.targets.first_response_minutes) {
            (ConversationStatus::Open, Some(since), Some(t)) => {
                self.clock(Kind::FirstResponse, since, t, now)
            }
            _ => None,
        };
        let unresolved = matches!(
            state,
            ConversationStatus::Open | ConversationStatus::Pending
        );
        let resolution = match (unresolved, c.opened_at, self.targets.resolution_minutes) {
            (true, Some(since), Some(t)) => self.clock(Kind::Resolution, since, t, now),
            _ => None,
        };
        (first_response.is_some() || resolution.is_some()).then_some(ServiceLevel {
            first_response,
            resolution,
        })
    }

    fn clock(&self, kind: Kind, since_ms: i64, target: u32, now: DateTime<Utc>) -> Option<Clock> {
        let started_at = DateTime::from_timestamp_millis(since_ms)?;
        let due_at = self.schedule.add_business_minutes(started_at, target)?;
        // The warning counts back in opening time too: 10 minutes before a 09:05 deadline is
        // the evening before at 17:55, when someone is still there to act on it.
        let warn_at = self
            .targets
            .warning_minutes
            .and_then(|w| {
                self.schedule
                    .add_business_minutes(started_at, target.saturating_sub(w))
            })
            .map(|w| w.min(due_at));
        let level = if now >= due_at {
            Level::Breached
        } else if warn_at.is_some_and(|w| now >= w) {
            Level::Warning
        } else {
            Level::Ok
        };
        Some(Clock {
            kind,
            started_at,
            warn_at,
            due_at,
            level,
        })
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use chrono_tz::Asia::Tokyo;

    use super::*;

    fn tokyo(d: u32, h: u32, m: u32) -> i64 {
        Tokyo
            .with_ymd_and_hms(2026, 11, d, h, m, 0)
            .single()
            .map(|t| t.timestamp_millis())
            .unwrap_or_default()
    }

    fn clocks() -> Clocks {
        Clocks {
            targets: Targets {
                first_response_minutes: Some(30),
                resolution_minutes: Some(480),
                warning_minutes: Some(10),
            },
            // Mon–Fri 09:00–12:30, 14:00–18:00, Saturday morning.
            schedule: Schedule::japanese_clinic_default(Tokyo),
        }
    }

    fn conversation(status: &str, waiting: Option<i64>, opened: Option<i64>) -> Conversation {
        Conversation {
            id: "c".into(),
            clinic_id: "k".into(),
            channel_id: "ch".into(),
            kind: "direct".into(),
            thread_key: "t".into(),
            patient_id: None,
            channel_identity_id: None,
            title: None,
            status: status.into(),
            assignee_id: None,
            team_id: None,
            priority: 0,
            unread_count: 0,
            last_message_at: 0,
            last_inbound_at: waiting,
            last_message_preview: None,
            created_at: 0,
            via: None,
            snoozed_until: None,
            resolved_at: None,
            waiting_since: waiting,
            opened_at: opened,
            dissatisfaction: 0,
        }
    }

    #[test]
    fn an_open_waiting_conversation_goes_ok_warning_breached() {
        let c = conversation("open", Some(tokyo(16, 10, 0)), Some(tokyo(16, 10, 0)));
        let k = clocks();
        let at = |h, m| k.of(&c, tokyo(16, h, m)).and_then(|s| s.first_response);
        let ok = at(10, 5).map(|c| (c.level, c.due_at.timestamp_millis()));
        assert_eq!(ok, Some((Level::Ok, tokyo(16, 10, 30))));
        assert_eq!(at(10, 20).map(|c| c.level), Some(Level::Warning));
        assert_eq!(at(10, 30).map(|c| c.level), Some(Level::Breached));
        let res = k.of(&c, tokyo(16, 10, 5)).and_then(|s| s.resolution);
        assert_eq!(
            res.map(|c| c.due_at.timestamp_millis()),
            Some(tokyo(17, 10, 30))
        );
    }

    #[test]
    fn the_warning_counts_back_over_the_night() {
        // Friday 17:45 + 30 min is Saturday 09:15; its warning is Saturday 09:05.
        let c = conversation("open", Some(tokyo(13, 17, 45)), None);
        let s = clocks()
            .of(&c, tokyo(13, 17, 50))
            .and_then(|s| s.first_response);
        assert_eq!(
            s.map(|c| c.due_at.timestamp_millis()),
            Some(tokyo(14, 9, 15))
        );
        assert_eq!(
            s.and_then(|c| c.warn_at).map(|t| t.timestamp_millis()),
            Some(tokyo(14, 9, 5))
        );
    }

    #[test]
    fn pending_keeps_only_the_resolution_clock_and_resolved_or_snoozed_none() {
        let k = clocks();
        let now = tokyo(16, 11, 0);
        let pending = conversation("pending", None, Some(tokyo(16, 10, 0)));
        let s = k.of(&pending, now);
        assert!(s.is_some_and(|s| s.first_response.is_none() && s.resolution.is_some()));
        assert_eq!(
            k.of(&conversation("resolved", None, Some(tokyo(16, 10, 0))), now),
            None
        );
        let mut snoozed = conversation("snoozed", Some(tokyo(16, 10, 0)), Some(tokyo(16, 10, 0)));
        snoozed.snoozed_until = Some(tokyo(16, 15, 0));
        assert_eq!(k.of(&snoozed, now), None);
        // A due snooze is open again: its clocks show.
        assert!(k.of(&snoozed, tokyo(16, 15, 0)).is_some());
    }

    #[test]
    fn an_open_conversation_nobody_waits_on_has_no_first_response_clock() {
        let k = Clocks {
            targets: Targets {
                first_response_minutes: Some(30),
                ..Targets::default()
            },
            ..clocks()
        };
        assert_eq!(
            k.of(
                &conversation("open", None, Some(tokyo(16, 10, 0))),
                tokyo(16, 11, 0)
            ),
            None
        );
    }
}
