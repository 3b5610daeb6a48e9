//! The inbox filter as query parameters, read the same way by the inbox page, saved views and
//! `GET /api/v1/conversations`: words at the edge become `store::conversations::filter`'s one
//! type, and anything that does not read is refused by name (never silently widened).
use chrono::{NaiveDate, TimeZone};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use tsunagu_core::{ConversationStatus, Priority};
use tsunagu_store::conversations::filter::{Assignee, ConversationFilter, Sort};
use utoipa::IntoParams;

/// Every facet a view can narrow by. Empty values mean "any".
#[derive(Clone, Debug, Default, Deserialize, Serialize, IntoParams, PartialEq, Eq)]
#[into_params(parameter_in = Query)]
pub struct FilterParams {
    /// `open` (new or written again, snoozed ones whose time has come included; the inbox
    /// page's default), `pending`, `snoozed`, `resolved`, or `all` (the API's default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// A channel id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    /// A team id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
    /// A staff id, `none` (unassigned) or `me` (the signed-in person; pages only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignee: Option<String>,
    /// A label id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    /// `urgent`, `high`, `normal` or `low`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority: Option<String>,
    /// Last message on or after this clinic-local date (`YYYY-MM-DD`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// Last message on or before this clinic-local date (`YYYY-MM-DD`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub to: Option<String>,
    /// `priority` (urgent first, then newest: the default), `newest`, or `dissatisfied`
    /// (不満の強い順: the latest patient text negative first, then newest; never clinical).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sort: Option<String>,
}

/// The parameter that did not read.
#[derive(Debug, PartialEq, Eq)]
pub struct BadParam(pub &'static str);

fn given(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

fn uuid(v: &Option<String>, name: &'static str) -> Result<Option<String>, BadParam> {
    given(v)
        .map(|s| {
            uuid::Uuid::try_parse(s)
                .map(|u| u.to_string())
                .map_err(|_| BadParam(name))
        })
        .transpose()
}

/// Clinic-local midnight of a `YYYY-MM-DD`, in ms (`days` later).
fn local_day(
    v: &Option<String>,
    tz: Tz,
    days: i64,
    name: &'static str,
) -> Result<Option<i64>, BadParam> {
    let Some(s) = given(v) else { return Ok(None) };
    let d = NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| BadParam(name))?;
    let d = d + chrono::Duration::days(days);
    let midnight = d.and_hms_opt(0, 0, 0).ok_or(BadParam(name))?;
    let at = tz
        .from_local_datetime(&midnight)
        .earliest()
        .ok_or(BadParam(name))?;
    Ok(Some(at.timestamp_millis()))
}

impl FilterParams {
    /// The filter, with `me` meaning `me` (`None`: no person, `me` refused).
    pub fn to_filter(&self, me: Option<&str>, tz: Tz) -> Result<ConversationFilter, BadParam> {
        let status = match given(&self.status) {
            None => Some(ConversationStatus::Open),
            Some("all") => None,
            Some(s) => Some(ConversationStatus::parse(s).ok_or(BadParam("status"))?),
        };
        let assignee = match given(&self.assignee) {
            None => Assignee::Any,
            Some("none") => Assignee::Unassigned,
            Some("me") => Assignee::Staff(me.ok_or(BadParam("assignee"))?.to_owned()),
            Some(_) => Assignee::Staff(uuid(&self.assignee, "assignee")?.unwrap_or_default()),
        };
        let priority = given(&self.priority)
            .map(|p| Priority::parse(p).ok_or(BadParam("priority")))
            .transpose()?;
        let sort = match given(&self.sort) {
            None | Some("priority") => Sort::Priority,
            Some("newest") => Sort::Newest,
            Some("dissatisfied") => Sort::Dissatisfied,
            Some(_) => return Err(BadParam("sort")),
        };
        Ok(ConversationFilter {
            status,
            channel_id: uuid(&self.channel, "channel")?,
            team_id: uuid(&self.team, "team")?,
            assignee,
            label_id: uuid(&self.label, "label")?,
            priority,
            from_ms: local_day(&self.from, tz, 0, "from")?,
            until_ms: local_day(&self.to, tz, 1, "to")?,
            sort,
        })
    }

    /// As a query string (no `?`), empty values left out: links, saved views.
    pub fn query(&self) -> String {
        let keep = |v: &Option<String>| given(v).map(str::to_owned);
        let clean = FilterParams {
            status: keep(&self.status),
            channel: keep(&self.channel),
            team: keep(&self.team),
            assignee: keep(&self.assignee),
            label: keep(&self.label),
            priority: keep(&self.priority),
            from: keep(&self.from),
            to: keep(&self.to),
            sort: keep(&self.sort),
        };
        serde_urlencoded::to_string(clean).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(q: &str) -> FilterParams {
        serde_urlencoded::from_str(q).unwrap()
    }

    #[test]
    fn no_parameters_mean_open_conversations_urgent_first() {
        let f = p("").to_filter(None, chrono_tz::Asia::Tokyo).unwrap();
        assert_eq!(f.status, Some(ConversationStatus::Open));
        assert_eq!(f.sort, Sort::Priority);
        assert_eq!(f.assignee, Assignee::Any);
    }

    #[test]
    fn a_date_range_is_whole_clinic_local_days() {
        let f = p("from=2026-01-05&to=2026-01-05")
            .to_filter(None, chrono_tz::Asia::Tokyo)
            .unwrap();
        // 2026-01-05 00:00 JST is 2026-01-04 15:00 UTC.
        assert_eq!(f.from_ms, Some(1_767_538_800_000));
        assert_eq!(f.until_ms, Some(1_767_538_800_000 + 86_400_000));
    }

    #[test]
    fn words_that_do_not_read_are_refused_by_name() {
        let tz = chrono_tz::Asia::Tokyo;
        assert_eq!(
            p("status=closed").to_filter(None, tz),
            Err(BadParam("status"))
        );
        assert_eq!(
            p("priority=1").to_filter(None, tz),
            Err(BadParam("priority"))
        );
        assert_eq!(
            p("assignee=me").to_filter(None, tz),
            Err(BadParam("assignee"))
        );
        assert_eq!(p("label=x").to_filter(None, tz), Err(BadParam("label")));
        assert_eq!(p("from=5/1").to_filter(None, tz), Err(BadParam("from")));
    }

    #[test]
    fn the_query_string_leaves_out_what_is_not_set() {
        assert_eq!(
            p("status=pending&label=&sort=newest").query(),
            "status=pending&sort=newest"
        );
    }
}
