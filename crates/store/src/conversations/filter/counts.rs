//! Tab counts for the inbox: how many conversations each tab holds under a filter's other
//! facets, each read from an index and capped, so a long history costs nothing per page.
use anyhow::Context;
use sqlx::AnyConnection;
use tsunagu_core::ClinicId;

use super::{Assignee, ConversationFilter, Sql};

impl ConversationFilter {
    /// How many conversations each tab holds under this filter's other facets (its status and
    /// assignee are ignored), and how many of the working tabs' have unread messages. Each count
    /// reads at most `COUNT_CAP` (`UNREAD_CAP`) index entries, so a clinic with a long history
    /// does not pay for it on every page: past that a tab says "999+".
    pub async fn counts(
        &self,
        conn: &mut AnyConnection,
        clinic: &ClinicId,
        me: &str,
        now_ms: i64,
    ) -> anyhow::Result<TabCounts> {
        let facets = ConversationFilter {
            status: None,
            assignee: Assignee::Any,
            ..self.clone()
        };
        let drives = facets.label_drives(conn, clinic).await?;
        let sqlite = conn.backend_name() == "SQLite";
        let mut sql = Sql::default();
        let clinic_b = sql.text(clinic.as_str());
        let now = sql.int(now_ms);
        let me = sql.text(me);
        let from = facets.source(&mut sql, drives, sqlite);
        let rest = facets.facets(&mut sql, drives);
        // The unread legs are read from the small unread index. SQLite's planner, without
        // statistics, would as soon take any index on (clinic, state) and check every row of
        // the state (or a date index: 8,000 rows read for 自分の担当's unread in a month), so
        // it is named; a label's rows come from the label instead.
        let from_unread = if sqlite && !drives {
            "conversations INDEXED BY conversations_unread_idx".to_string()
        } else {
            from.clone()
        };
        let due = format!("status = 'snoozed' AND snoozed_until <= {now}");
        // Each tab as legs that each walk an index (an OR would not).
        let open = |extra: &str| vec![format!("status = 'open'{extra}"), format!("{due}{extra}")];
        // 全件 is not read: every conversation is in exactly one of 対応中 (open and due
        // snoozed), 保留, スヌーズ中 (not yet due) and 解決済み, so it is their sum; a cap on
        // any of them carries into the sum, which then reads "999+" too.
        let tabs: [(Vec<String>, bool); 6] = [
            (open(""), true),
            (open(" AND assignee_id IS NULL"), true),
            (open(&format!(" AND assignee_id = {me}")), true),
            (vec!["status = 'pending'".into()], true),
            (
                vec![format!("status = 'snoozed' AND snoozed_until > {now}")],
                false,
            ),
            (vec!["status = 'resolved'".into()], false),
        ];
        let capped = |legs: &[String], extra: &str, cap: i64| {
            let from = if extra.is_empty() {
                &from
            } else {
                &from_unread
            };
            legs.iter()
                .map(|leg| {
                    format!(
                        "(SELECT COUNT(*) FROM (SELECT 1 FROM {from} WHERE clinic_id = {clinic_b} AND {leg}{extra}{rest} LIMIT {cap}) c)"
                    )
                })
                .collect::<Vec<_>>()
                .join(" + ")
        };
        let cols = tabs
            .iter()
            .enumerate()
            .map(|(i, (legs, unread))| {
                let n = capped(legs, "", COUNT_CAP);
                let u = if *unread {
                    capped(legs, " AND unread_count > 0", UNREAD_CAP)
                } else {
                    "0".into()
                };
                format!("CAST({n} AS BIGINT) AS n{i}, CAST({u} AS BIGINT) AS u{i}")
            })
            .collect::<Vec<_>>()
            .join(", ");
        let row: TabCountsRow = sql
            .bind(sqlx::query_as::<_, TabCountsRow>(&format!("SELECT {cols}")))
            .fetch_one(conn)
            .await
            .context("counting the inbox tabs")?;
        Ok(row.into())
    }
}
/// Tab counts stop here ("999+").
pub const COUNT_CAP: i64 = 1000;
/// Unread counts stop here ("99+").
pub const UNREAD_CAP: i64 = 100;

/// A tab's size and how many of its conversations have unread messages.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Count {
    pub total: i64,
    pub unread: i64,
}

impl Count {
    /// As a tab shows it: `999+` past the cap.
    pub fn total_label(&self) -> String {
        label(self.total, COUNT_CAP)
    }
    pub fn unread_label(&self) -> String {
        label(self.unread, UNREAD_CAP)
    }
}

fn label(n: i64, cap: i64) -> String {
    if n >= cap {
        format!("{}+", cap - 1)
    } else {
        n.to_string()
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct TabCounts {
    pub open: Count,
    pub unassigned: Count,
    pub mine: Count,
    pub pending: Count,
    pub snoozed: Count,
    pub resolved: Count,
    pub all: Count,
}

#[derive(sqlx::FromRow)]
struct TabCountsRow {
    n0: i64,
    u0: i64,
    n1: i64,
    u1: i64,
    n2: i64,
    u2: i64,
    n3: i64,
    u3: i64,
    n4: i64,
    u4: i64,
    n5: i64,
    u5: i64,
}

impl From<TabCountsRow> for TabCounts {
    fn from(r: TabCountsRow) -> Self {
        let c = |total, unread| Count { total, unread };
        TabCounts {
            open: c(r.n0, r.u0),
            unassigned: c(r.n1, r.u1),
            mine: c(r.n2, r.u2),
            pending: c(r.n3, r.u3),
            snoozed: c(r.n4, r.u4),
            resolved: c(r.n5, r.u5),
            all: c((r.n0 + r.n3 + r.n4 + r.n5).min(COUNT_CAP), 0),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_count_at_its_cap_reads_as_more() {
        let c = Count {
            total: COUNT_CAP,
            unread: 3,
        };
        assert_eq!(
            (c.total_label(), c.unread_label()),
            ("999+".into(), "3".into())
        );
    }
}
