//! What the conversation page shows of its state: the state and priority in words, its
//! labels and the clinic's others, when each quick snooze would end (clinic-local), and the
//! service-level clocks running.
use chrono::{Duration, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;
use serde::Serialize;
use tsunagu_core::{ConversationStatus, Priority};
use tsunagu_store::conversations::Conversation;
use tsunagu_store::labels::{self, Label};

use super::conn;
use crate::i18n;
use crate::ui::session::Staff;
use crate::{AppState, PageError};

#[derive(Clone, Debug, Serialize)]
pub struct Option_ {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

/// What the conversation page shows of the state.
#[derive(Clone, Debug, Serialize)]
pub struct StateView {
    pub status: &'static str,
    pub status_label: String,
    /// While snoozed: until when, clinic-local.
    pub snoozed_until: Option<String>,
    pub priority: &'static str,
    pub priorities: Vec<Option_>,
    pub labels: Vec<Label>,
    /// The clinic's labels not on the conversation yet.
    pub addable: Vec<Label>,
    pub status_action: String,
    pub priority_action: String,
    pub labels_action: String,
    /// The earliest time the chosen-time picker accepts (clinic-local, `datetime-local`).
    pub min_at: String,
    /// When each quick snooze would end, clinic-local (`None`: not possible, e.g. no opening).
    pub snooze_hour: Option<String>,
    pub snooze_tomorrow: Option<String>,
    pub snooze_opening: Option<String>,
    /// The service-level clocks running (返信期限, 解決期限).
    pub sla: Vec<super::sla_view::SlaBadge>,
    pub sla_words: super::sla_view::DurationWords,
}

pub async fn view(
    state: &AppState,
    staff: &Staff,
    conv: &Conversation,
) -> Result<StateView, PageError> {
    let lang = staff.lang;
    let now = state.now_ms();
    let tz = zone(staff);
    let status = ConversationStatus::effective(&conv.status, conv.snoozed_until, now);
    let priority = Priority::from_i64(conv.priority);
    let clinic = staff.clinic.clinic_id();
    let mut c = conn(state).await?;
    let on = labels::of_conversations(&mut c, &clinic, &[conv.id.as_str()])
        .await?
        .remove(&conv.id)
        .unwrap_or_default();
    let addable = labels::list(&mut c, &clinic)
        .await?
        .into_iter()
        .filter(|l| !on.iter().any(|o| o.id == l.id))
        .collect();
    let local = |ms: i64| {
        tz.timestamp_millis_opt(ms)
            .single()
            .map(|t| t.naive_local())
    };
    let clocks = tsunagu_inbox::sla::Clocks::load(&mut c, &clinic).await?;
    drop(c);
    let sla = super::sla_view::badges(
        lang,
        &super::view::Zone::of(&staff.clinic),
        clocks.as_ref().and_then(|k| k.of(conv, now)).as_ref(),
        now,
    );
    let ends = |ms: Option<i64>| {
        ms.and_then(local)
            .map(|t| t.format("%m/%d %H:%M").to_string())
    };
    let snooze_hour = ends(snooze_until(state, staff, "hour", None).await?);
    let snooze_tomorrow = ends(snooze_until(state, staff, "tomorrow", None).await?);
    let snooze_opening = ends(snooze_until(state, staff, "opening", None).await?);
    Ok(StateView {
        sla,
        sla_words: super::sla_view::duration_words(lang),
        snooze_hour,
        snooze_tomorrow,
        snooze_opening,
        status: status.as_str(),
        status_label: i18n::text(lang, &format!("state.{}", status.as_str())),
        snoozed_until: (status == ConversationStatus::Snoozed)
            .then_some(conv.snoozed_until)
            .flatten()
            .and_then(local)
            .map(|t| t.format("%m/%d %H:%M").to_string()),
        priority: priority.as_str(),
        priorities: Priority::ALL
            .iter()
            .map(|p| Option_ {
                value: p.as_str().into(),
                label: i18n::text(lang, &format!("priority.{}", p.as_str())),
                selected: *p == priority,
            })
            .collect(),
        labels: on,
        addable,
        status_action: format!("/app/conversations/{}/status", conv.id),
        priority_action: format!("/app/conversations/{}/priority", conv.id),
        labels_action: format!("/app/conversations/{}/labels", conv.id),
        min_at: local(now)
            .map(|t| t.format("%Y-%m-%dT%H:%M").to_string())
            .unwrap_or_default(),
    })
}

fn zone(staff: &Staff) -> Tz {
    staff
        .clinic
        .timezone
        .parse()
        .unwrap_or(chrono_tz::Asia::Tokyo)
}

/// When a snooze picked as `how` ends, or `None` if it cannot (a time in the past, a clinic
/// with no opening ahead).
pub(super) async fn snooze_until(
    state: &AppState,
    staff: &Staff,
    how: &str,
    at: Option<&str>,
) -> Result<Option<i64>, PageError> {
    let now = state.now_ms();
    let tz = zone(staff);
    let now_local = Utc
        .timestamp_millis_opt(now)
        .single()
        .map(|t| t.with_timezone(&tz));
    let Some(now_local) = now_local else {
        return Ok(None);
    };
    let local_ms = |t: NaiveDateTime| {
        tz.from_local_datetime(&t)
            .earliest()
            .map(|t| t.timestamp_millis())
    };
    let until = match how {
        "hour" => Some(now + 3_600_000),
        "tomorrow" => (now_local.date_naive() + Duration::days(1))
            .and_hms_opt(9, 0, 0)
            .and_then(local_ms),
        "opening" => {
            let mut c = conn(state).await?;
            let cal = tsunagu_calendar::store::load(&mut c, &staff.clinic.clinic_id()).await?;
            // Open now: the opening after this one, so the snooze means something.
            cal.and_then(|cal| {
                let s = &cal.schedule;
                let from = Utc.timestamp_millis_opt(now).single()?;
                let from = s.current_interval_end(from).unwrap_or(from);
                s.next_opening(from).map(|t| t.timestamp_millis())
            })
        }
        "at" => at
            .and_then(|a| NaiveDateTime::parse_from_str(a, "%Y-%m-%dT%H:%M").ok())
            .and_then(local_ms),
        _ => None,
    };
    Ok(until.filter(|u| *u > now))
}
