//! `/app/satisfaction` (満足度): what patients answered to the satisfaction survey, for staff
//! who may read figures: average, distribution and response rate, per month, staff member and
//! team, filtered by month, team or staff member; the latest comments for those who may also
//! read messages (they are what patients wrote). Settings at `/app/settings/satisfaction`.
use axum::extract::{Query, State};
use axum::response::Html;
use axum::routing::get;
use axum::Router;
use serde::{Deserialize, Serialize};
use tsunagu_automation::satisfaction::results::{self, Figures, Filter, Group};
use tsunagu_automation::satisfaction::{settings, ANSWERS};
use tsunagu_core::Permission;

use crate::i18n::text;
use crate::ui::inbox::shell::shell;
use crate::ui::session::Staff;
use crate::ui::{conn, render};
use crate::{AppState, PageError};

pub fn router() -> Router<AppState> {
    Router::new().route("/app/satisfaction", get(page))
}

#[derive(Debug, Default, Deserialize, Serialize)]
pub struct PageQuery {
    #[serde(default)]
    pub month: String,
    #[serde(default)]
    pub team: String,
    #[serde(default)]
    pub staff: String,
}

/// Figures as shown: the average to one decimal, rates in whole percent, bar widths.
#[derive(Serialize)]
struct Shown {
    asked: i64,
    answered: i64,
    average: Option<String>,
    rate: Option<String>,
    /// (score, label, count, percent of answers), best first.
    bars: Vec<(i64, &'static str, i64, i64)>,
}

fn shown(f: &Figures) -> Shown {
    let pct = |n: i64| (n * 100 + f.answered / 2) / f.answered.max(1);
    Shown {
        asked: f.asked,
        answered: f.answered,
        average: f.average.map(|a| format!("{a:.1}")),
        rate: f.response_rate.map(|r| format!("{:.0}%", r * 100.0)),
        bars: (1..=5)
            .rev()
            .map(|s| {
                let n = f.distribution[s as usize - 1];
                (s, ANSWERS[s as usize - 1], n, pct(n))
            })
            .collect(),
    }
}

#[derive(Serialize)]
struct Row {
    key: Option<String>,
    name: String,
    figures: Shown,
}

fn rows(lang: &str, groups: &[Group], none: &str, month: bool) -> Vec<Row> {
    groups
        .iter()
        .map(|g| Row {
            key: g.key.clone(),
            name: match (&g.key, &g.name) {
                (Some(k), _) if month => month_name(lang, k),
                (_, Some(n)) => n.clone(),
                _ => none.to_string(),
            },
            figures: shown(&g.figures),
        })
        .collect()
}

/// 2026-09 → 2026年9月 (in English as is).
fn month_name(lang: &str, key: &str) -> String {
    match key.split_once('-') {
        Some((y, m)) if lang == "ja" => format!("{y}年{}月", m.trim_start_matches('0')),
        _ => key.to_string(),
    }
}

#[derive(Serialize)]
struct Comment {
    conversation_id: Option<String>,
    score: i64,
    comment: String,
    staff: String,
    at: String,
}

fn some(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_string())
}

pub async fn page(
    State(state): State<AppState>,
    staff: Staff,
    Query(q): Query<PageQuery>,
) -> Result<Html<String>, PageError> {
    staff.require(Permission::ReadFigures)?;
    let lang = staff.lang;
    let clinic = staff.clinic.clinic_id();
    let mut c = conn(&state).await?;
    // Every month, team and staff member with surveys: the filters' choices.
    let all = results::read(&mut c, &clinic, &Filter::default()).await?;
    let filter = Filter {
        month: some(&q.month).filter(|m| all.by_month.iter().any(|g| g.key.as_ref() == Some(m))),
        team_id: some(&q.team),
        staff_id: some(&q.staff),
    };
    let filtered = filter.month.is_some() || filter.team_id.is_some() || filter.staff_id.is_some();
    let r = match filtered {
        true => results::read(&mut c, &clinic, &filter).await?,
        false => all.clone(),
    };
    let comments = match staff.can(Permission::ReadMessages) {
        true => results::comments(&mut c, &clinic, &filter, 20).await?,
        false => Vec::new(),
    };
    let enabled = settings::load(&mut c, &clinic).await?.enabled;
    drop(c);
    let tz = staff
        .clinic
        .timezone
        .parse()
        .unwrap_or(chrono_tz::Asia::Tokyo);
    let comments: Vec<Comment> = comments
        .into_iter()
        .map(|m| Comment {
            conversation_id: m.conversation_id,
            score: m.score,
            comment: m.comment,
            staff: m
                .staff_name
                .unwrap_or_else(|| text(lang, "satisfaction.unassigned")),
            at: tsunagu_core::clock::from_ms(m.answered_at)
                .with_timezone(&tz)
                .format("%Y-%m-%d %H:%M")
                .to_string(),
        })
        .collect();
    let skipped: Vec<(String, i64)> = r
        .skipped
        .iter()
        .map(|(code, n)| {
            let key = format!("satisfaction.skip.{code}");
            let words = text(lang, &key);
            let words = match words == key {
                true => text(lang, "satisfaction.skip.other"),
                false => words,
            };
            (words, *n)
        })
        .collect();
    let unassigned = text(lang, "satisfaction.unassigned");
    let no_team = text(lang, "satisfaction.no_team");
    let ctx = minijinja::context! {
        lang, shell => shell(&state, &staff, "satisfaction").await?,
        title => text(lang, "satisfaction.title"),
        query => &q, filtered, enabled,
        can_administer => staff.can(Permission::Administer),
        can_comments => staff.can(Permission::ReadMessages),
        total => shown(&r.total),
        by_month => rows(lang, &r.by_month, "", true),
        by_staff => rows(lang, &r.by_staff, &unassigned, false),
        by_team => rows(lang, &r.by_team, &no_team, false),
        months => rows(lang, &all.by_month, "", true),
        staff_choices => rows(lang, &all.by_staff, &unassigned, false),
        team_choices => rows(lang, &all.by_team, &no_team, false),
        comments, skipped,
    };
    render(&state, "satisfaction/results.html", ctx)
}
