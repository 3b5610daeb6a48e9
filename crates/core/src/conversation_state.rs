//! A conversation's state and priority: one Rust type each, the same words in the database, the
//! API (snake_case) and the locale keys (`state.<name>`, `priority.<name>`).
use serde::{Deserialize, Serialize};

/// Where a conversation stands. A snoozed one whose time has come counts as open everywhere,
/// before the wake job has flipped it (`store::conversations::filter`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ConversationStatus {
    /// Needs the clinic: new, or the patient wrote again.
    Open,
    /// Answered, waiting on the patient.
    Pending,
    /// Put aside until `snoozed_until`.
    Snoozed,
    /// Done; the patient's next message reopens it.
    Resolved,
}

impl ConversationStatus {
    pub const ALL: [ConversationStatus; 4] = [
        ConversationStatus::Open,
        ConversationStatus::Pending,
        ConversationStatus::Snoozed,
        ConversationStatus::Resolved,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ConversationStatus::Open => "open",
            ConversationStatus::Pending => "pending",
            ConversationStatus::Snoozed => "snoozed",
            ConversationStatus::Resolved => "resolved",
        }
    }

    /// The stored word, or `None` for anything else (fails closed).
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// As staff see it at `now_ms`: a snoozed conversation whose time has come is open.
    pub fn effective(stored: &str, snoozed_until: Option<i64>, now_ms: i64) -> Self {
        match Self::parse(stored) {
            Some(Self::Snoozed) if snoozed_until.is_none_or(|t| t <= now_ms) => Self::Open,
            Some(s) => s,
            None => Self::Open,
        }
    }
}

/// How soon a conversation needs the clinic. Stored as an integer that sorts (urgent first with
/// `ORDER BY priority DESC`); normal is 0, the column's default, so rows from before priorities
/// existed are normal without a data migration.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    Low,
    Normal,
    High,
    Urgent,
}

impl Priority {
    /// Most urgent first, as menus list them.
    pub const ALL: [Priority; 4] = [
        Priority::Urgent,
        Priority::High,
        Priority::Normal,
        Priority::Low,
    ];

    pub fn as_i64(self) -> i64 {
        match self {
            Priority::Low => -1,
            Priority::Normal => 0,
            Priority::High => 1,
            Priority::Urgent => 2,
        }
    }

    /// The stored integer; values outside the scale are clamped to its ends.
    pub fn from_i64(v: i64) -> Self {
        match v {
            i64::MIN..=-1 => Priority::Low,
            0 => Priority::Normal,
            1 => Priority::High,
            _ => Priority::Urgent,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Low => "low",
            Priority::Normal => "normal",
            Priority::High => "high",
            Priority::Urgent => "urgent",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn priorities_sort_urgent_first_by_their_stored_integer() {
        let mut v = Priority::ALL.map(Priority::as_i64).to_vec();
        v.sort_by(|a, b| b.cmp(a));
        assert_eq!(
            v.into_iter().map(Priority::from_i64).collect::<Vec<_>>(),
            Priority::ALL
        );
        assert_eq!(Priority::from_i64(0), Priority::Normal);
    }

    #[test]
    fn a_snoozed_conversation_whose_time_has_come_is_open() {
        use ConversationStatus::*;
        assert_eq!(
            ConversationStatus::effective("snoozed", Some(10), 9),
            Snoozed
        );
        assert_eq!(ConversationStatus::effective("snoozed", Some(10), 10), Open);
        assert_eq!(
            ConversationStatus::effective("resolved", None, 10),
            Resolved
        );
        assert_eq!(ConversationStatus::parse("closed"), None);
    }

    #[test]
    fn the_api_names_are_snake_case() {
        assert_eq!(serde_json::json!(Priority::Urgent), "urgent");
        assert_eq!(serde_json::json!(ConversationStatus::Pending), "pending");
    }
}
