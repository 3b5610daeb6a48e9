//! The inbox tabs, whose words are true: 対応中 open, 未割り当て open and unassigned,
//! 自分の担当 open and mine, 保留 pending, スヌーズ snoozed, 解決済み resolved, すべて all.
use tsunagu_store::conversations::filter::{Count, TabCounts};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tab {
    Open,
    Unassigned,
    Mine,
    Pending,
    Snoozed,
    Resolved,
    All,
}

impl Tab {
    pub const ALL: [Tab; 7] = [
        Tab::Open,
        Tab::Unassigned,
        Tab::Mine,
        Tab::Pending,
        Tab::Snoozed,
        Tab::Resolved,
        Tab::All,
    ];

    pub fn parse(s: Option<&str>) -> Option<Tab> {
        let s = s?;
        Self::ALL.into_iter().find(|t| t.as_str() == s)
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Tab::Open => "open",
            Tab::Unassigned => "unassigned",
            Tab::Mine => "mine",
            Tab::Pending => "pending",
            Tab::Snoozed => "snoozed",
            Tab::Resolved => "resolved",
            Tab::All => "all",
        }
    }
    /// The tab's status and assignee, as filter words.
    pub(super) fn params(self) -> (&'static str, Option<&'static str>) {
        match self {
            Tab::Open => ("open", None),
            Tab::Unassigned => ("open", Some("none")),
            Tab::Mine => ("open", Some("me")),
            Tab::Pending => ("pending", None),
            Tab::Snoozed => ("snoozed", None),
            Tab::Resolved => ("resolved", None),
            Tab::All => ("all", None),
        }
    }
    /// The tab's size in `c`.
    pub(super) fn count(self, c: &TabCounts) -> Count {
        match self {
            Tab::Open => c.open,
            Tab::Unassigned => c.unassigned,
            Tab::Mine => c.mine,
            Tab::Pending => c.pending,
            Tab::Snoozed => c.snoozed,
            Tab::Resolved => c.resolved,
            Tab::All => c.all,
        }
    }
}
