//! What the surveys say, per month, staff member and team: how many were asked, answered
//! (the response rate), the average and the distribution of scores, and the latest comments.
//! Read for one clinic, optionally one month, team or staff member; skipped surveys count by
//! their reason, never as asked.
use std::collections::BTreeMap;

use anyhow::Context;
use serde::Serialize;
use sqlx::{AnyConnection, FromRow};
use tsunagu_core::ClinicId;

#[derive(Clone, Debug, Default)]
pub struct Filter {
    /// YYYY-MM
    pub month: Option<String>,
    pub team_id: Option<String>,
    pub staff_id: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Figures {
    /// Surveys sent.
    pub asked: i64,
    /// Surveys with a score.
    pub answered: i64,
    /// `answered / asked`, 0–1.
    pub response_rate: Option<f64>,
    pub average: Option<f64>,
    /// How many gave 1, 2, 3, 4, 5.
    pub distribution: [i64; 5],
}

impl Figures {
    fn add(&mut self, score: Option<i64>) {
        self.asked += 1;
        if let Some(s) = score.filter(|s| (1..=5).contains(s)) {
            self.answered += 1;
            self.distribution[(s - 1) as usize] += 1;
        }
    }

    fn finish(&mut self) {
        let sum: i64 = (1..=5).map(|s| s * self.distribution[s as usize - 1]).sum();
        self.average = (self.answered > 0).then(|| sum as f64 / self.answered as f64);
        self.response_rate = (self.asked > 0).then(|| self.answered as f64 / self.asked as f64);
    }
}

/// A month, staff member or team (`key` None: nobody assigned, no team).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Group {
    pub key: Option<String>,
    /// The staff member's display name or the team's name.
    pub name: Option<String>,
    pub figures: Figures,
}

#[derive(Clone, Debug, PartialEq, Serialize, FromRow)]
pub struct Comment {
    /// None when the conversation is gone (erased, or a demo's past result).
    pub conversation_id: Option<String>,
    pub score: i64,
    pub comment: String,
    pub answered_at: i64,
    pub staff_name: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Results {
    pub total: Figures,
    /// Newest month first.
    pub by_month: Vec<Group>,
    pub by_staff: Vec<Group>,
    pub by_team: Vec<Group>,
    /// Not sent, by reason code (`asked_recently` or a refusal's code).
    pub skipped: BTreeMap<String, i64>,
}

#[derive(FromRow)]
struct Row {
    month: String,
    staff_id: Option<String>,
    staff_name: Option<String>,
    team_id: Option<String>,
    team_name: Option<String>,
    state: String,
    score: Option<i64>,
    skip_reason: Option<String>,
}

const FILTER: &str = "s.clinic_id = $1 AND ($2 = '' OR s.month = $2)
    AND ($3 = '' OR s.team_id = $3) AND ($4 = '' OR s.staff_id = $4)";

type Query<'q, O> = sqlx::query::QueryAs<'q, sqlx::Any, O, sqlx::any::AnyArguments<'q>>;

fn bind<'q, O>(q: Query<'q, O>, clinic: &'q ClinicId, f: &'q Filter) -> Query<'q, O> {
    q.bind(clinic.as_str())
        .bind(f.month.as_deref().unwrap_or_default())
        .bind(f.team_id.as_deref().unwrap_or_default())
        .bind(f.staff_id.as_deref().unwrap_or_default())
}

fn group(map: BTreeMap<Option<String>, (Option<String>, Figures)>) -> Vec<Group> {
    map.into_iter()
        .map(|(key, (name, mut figures))| {
            figures.finish();
            Group { key, name, figures }
        })
        .collect()
}

pub async fn read(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    f: &Filter,
) -> anyhow::Result<Results> {
    let sql = format!(
        "SELECT s.month, s.staff_id, st.display_name AS staff_name, s.team_id, t.name AS team_name,
                s.state, s.score, s.skip_reason
         FROM satisfaction_surveys s
         LEFT JOIN staff st ON st.id = s.staff_id
         LEFT JOIN teams t ON t.id = s.team_id AND t.clinic_id = s.clinic_id
         WHERE {FILTER}"
    );
    let rows: Vec<Row> = bind(sqlx::query_as(&sql), clinic, f)
        .fetch_all(conn)
        .await
        .context("reading the satisfaction results")?;
    let mut r = Results::default();
    let mut months = BTreeMap::new();
    let mut staff = BTreeMap::new();
    let mut teams = BTreeMap::new();
    for row in rows {
        if row.state == "skipped" {
            let why = row.skip_reason.unwrap_or_default();
            *r.skipped.entry(why).or_default() += 1;
            continue;
        }
        r.total.add(row.score);
        let m: &mut (Option<String>, Figures) = months.entry(Some(row.month)).or_default();
        m.1.add(row.score);
        let s: &mut (Option<String>, Figures) = staff.entry(row.staff_id).or_default();
        s.0 = row.staff_name;
        s.1.add(row.score);
        let t: &mut (Option<String>, Figures) = teams.entry(row.team_id).or_default();
        t.0 = row.team_name;
        t.1.add(row.score);
    }
    r.total.finish();
    r.by_month = group(months);
    r.by_month.reverse();
    r.by_staff = group(staff);
    r.by_staff
        .sort_by(|a, b| (a.key.is_none(), &a.name).cmp(&(b.key.is_none(), &b.name)));
    r.by_team = group(teams);
    r.by_team
        .sort_by(|a, b| (a.key.is_none(), &a.name).cmp(&(b.key.is_none(), &b.name)));
    Ok(r)
}

/// The latest comments (newest first), for staff who may read what patients wrote.
pub async fn comments(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    f: &Filter,
    limit: i64,
) -> anyhow::Result<Vec<Comment>> {
    let sql = format!(
        "SELECT c.id AS conversation_id, s.score, s.comment, s.answered_at,
                st.display_name AS staff_name
         FROM satisfaction_surveys s LEFT JOIN staff st ON st.id = s.staff_id
         LEFT JOIN conversations c ON c.id = s.conversation_id AND c.clinic_id = s.clinic_id
         WHERE {FILTER} AND s.comment IS NOT NULL AND s.score IS NOT NULL
         ORDER BY s.answered_at DESC LIMIT $5"
    );
    bind(sqlx::query_as(&sql), clinic, f)
        .bind(limit)
        .fetch_all(conn)
        .await
        .context("reading the latest satisfaction comments")
}

#[cfg(test)]
mod tests {
    use super::Figures;

    #[test]
    fn figures_count_scores_and_asked_without_answer() {
        let mut f = Figures::default();
        for s in [Some(5), Some(4), Some(1), None] {
            f.add(s);
        }
        f.finish();
        assert_eq!(f.asked, 4);
        assert_eq!(f.answered, 3);
        assert_eq!(f.distribution, [1, 0, 0, 1, 1]);
        assert_eq!(f.average, Some(10.0 / 3.0));
        assert_eq!(f.response_rate, Some(0.75));
    }
}
