//! The query of a search, as the API (`GET /api/v1/search`) and the search page
//! (`/app/search`) both take it: what to look for and the inbox's facets, read into
//! `store::search::find::Facets` with the clinic's dates turned into times.
use chrono::NaiveDate;
use serde::Deserialize;
use tsunagu_core::{Code, Refusal};
use tsunagu_inbox::search::day_start_ms;
use tsunagu_store::search::find::Facets;
use utoipa::IntoParams;

const STATUSES: [&str; 4] = ["open", "pending", "snoozed", "resolved"];

#[derive(Clone, Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// What to look for, 1–100 characters: any part of a message or of a patient's name,
    /// kana, phone, e-mail or card number. Full-/half-width and hiragana/katakana are ignored.
    #[serde(default)]
    pub q: String,
    /// `open`, `pending`, `snoozed` or `resolved`.
    pub status: Option<String>,
    /// A channel id.
    pub channel: Option<String>,
    /// A staff id, or `none` for unassigned conversations.
    pub assignee: Option<String>,
    /// A team id.
    pub team: Option<String>,
    /// A label id: conversations carrying that label.
    pub label: Option<String>,
    /// 0 (normal) to 3 (urgent).
    pub priority: Option<String>,
    /// First day (clinic-local, `YYYY-MM-DD`), inclusive.
    pub from: Option<String>,
    /// Last day (clinic-local, `YYYY-MM-DD`), inclusive.
    pub to: Option<String>,
    /// 1–100, default 50.
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

fn set(v: &Option<String>) -> Option<&str> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty())
}

fn bad(field: &'static str) -> Refusal {
    Refusal::new(Code::InvalidSearchFilter)
        .arg_key("field", format!("search.facet.{field}"))
        .detail(format!("{field} is not one of its values."))
}

impl SearchParams {
    /// The facets, with `from`/`to` as the start of those days in `timezone`.
    pub fn facets(&self, timezone: &str) -> Result<Facets, Refusal> {
        let status = set(&self.status).map(str::to_owned);
        if status.as_deref().is_some_and(|s| !STATUSES.contains(&s)) {
            return Err(bad("status"));
        }
        let priority = match set(&self.priority) {
            None => None,
            Some(p) => match p.parse::<i64>() {
                Ok(n) if (0..=3).contains(&n) => Some(n),
                _ => return Err(bad("priority")),
            },
        };
        let day = |v: &Option<String>, field: &'static str, next: bool| match set(v) {
            None => Ok(None),
            Some(d) => NaiveDate::parse_from_str(d, "%Y-%m-%d")
                .ok()
                .and_then(|d| if next { d.succ_opt() } else { Some(d) })
                .and_then(|d| day_start_ms(d, timezone))
                .map(Some)
                .ok_or_else(|| bad(field)),
        };
        Ok(Facets {
            status,
            channel_id: set(&self.channel).map(str::to_owned),
            assignee: set(&self.assignee).map(|a| (a != "none").then(|| a.to_owned())),
            team_id: set(&self.team).map(str::to_owned),
            label_id: set(&self.label).map(str::to_owned),
            priority,
            from_ms: day(&self.from, "from", false)?,
            to_ms: day(&self.to, "to", true)?,
        })
    }
}
