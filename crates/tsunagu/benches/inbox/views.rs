//! The fixed set of inbox views: each first page (50 rows) as staff open it
//! (`GET /app/inbox?…`, the whole page: tabs with counts, unread total, rows, labels), beside
//! the bare indexed query behind its rows (`ConversationFilter::list`, on a connection of the
//! same pool, no HTTP, no rendering).
use chrono::Duration;
use tsunagu_core::{Clock, SystemClock};
use tsunagu_store::conversations::filter::ConversationFilter;
use tsunagu_web::conversation_filter::FilterParams;

use crate::measure::{self, Sample};
use crate::setup::Clinic;

pub struct View {
    pub name: &'static str,
    /// The page's query string.
    pub query: String,
    /// The same view as the store's filter.
    pub filter: ConversationFilter,
}

/// 対応中 (all open), 自分の担当, 未割り当て, a team's open ones, a rare label across every
/// state, and LINE's resolved conversations of a month two months ago.
pub async fn fixed_set(c: &Clinic) -> anyhow::Result<Vec<View>> {
    let pick = |sql: &'static str| {
        sqlx::query_scalar::<_, String>(sql)
            .bind(c.id.as_str().to_owned())
            .fetch_one(c.db.pool())
    };
    let team = pick("SELECT id FROM teams WHERE clinic_id = $1 AND name = '看護'").await?;
    let label = pick("SELECT id FROM labels WHERE clinic_id = $1 AND name = 'クレーム'").await?;
    let me = c.staff[0].0.as_str().to_owned();
    let today = SystemClock.now().date_naive();
    let from = (today - Duration::days(60)).to_string();
    let to = (today - Duration::days(30)).to_string();
    let tz = chrono_tz::Asia::Tokyo;
    let filter = |p: FilterParams| {
        p.to_filter(Some(&me), tz)
            .map_err(|e| anyhow::anyhow!("a bench view did not read: {e:?}"))
    };
    let params = |status: &str| FilterParams {
        status: Some(status.into()),
        ..FilterParams::default()
    };
    Ok(vec![
        View {
            name: "all open (対応中)",
            query: "view=open".into(),
            filter: filter(params("open"))?,
        },
        View {
            name: "mine (自分の担当)",
            query: "view=mine".into(),
            filter: filter(FilterParams {
                assignee: Some("me".into()),
                ..params("open")
            })?,
        },
        View {
            name: "unassigned (未割り当て)",
            query: "view=unassigned".into(),
            filter: filter(FilterParams {
                assignee: Some("none".into()),
                ..params("open")
            })?,
        },
        View {
            name: "a team, open (看護)",
            query: format!("view=open&team={team}"),
            filter: filter(FilterParams {
                team: Some(team.clone()),
                ..params("open")
            })?,
        },
        View {
            name: "a rare label, all states",
            query: format!("view=all&label={label}"),
            filter: filter(FilterParams {
                label: Some(label.clone()),
                ..params("all")
            })?,
        },
        View {
            name: "LINE + resolved + dates",
            query: format!(
                "view=resolved&channel={}&from={from}&to={to}",
                c.line_channel
            ),
            filter: filter(FilterParams {
                channel: Some(c.line_channel.clone()),
                from: Some(from.clone()),
                to: Some(to.clone()),
                ..params("resolved")
            })?,
        },
    ])
}

/// The page, `n` times, as the first staff member.
pub async fn page(c: &Clinic, http: &reqwest::Client, v: &View, n: usize) -> Sample {
    let url = format!("{}/app/inbox?{}", c.base, v.query);
    let cookie = c.staff[0].1.clone();
    measure::time(5, n, || measure::get(http, &url, Some(&cookie), None)).await
}

/// The bare query behind the page's rows, `n` times.
pub async fn floor(c: &Clinic, v: &View, n: usize) -> anyhow::Result<Sample> {
    let mut conn = c.db.pool().acquire().await?;
    let mut s = Sample::default();
    for i in 0..n + 5 {
        let t = std::time::Instant::now();
        let rows = v
            .filter
            .list(&mut conn, &c.id, SystemClock.now_ms(), None, 51)
            .await?;
        if i >= 5 {
            s.ms.push(t.elapsed().as_secs_f64() * 1e3);
        }
        std::hint::black_box(rows);
    }
    Ok(s)
}
