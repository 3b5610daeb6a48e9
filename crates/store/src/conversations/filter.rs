//! The one conversation filter: the inbox's tabs and saved views, `GET /api/v1/conversations`
//! and (later) search share it. It writes its own WHERE and binds, so every reader scopes by
//! clinic and treats a snoozed conversation whose time has come as open in the same way.
use anyhow::Context;
use sqlx::{Any, AnyConnection};
use tsunagu_core::{ClinicId, ConversationStatus, Priority};

use super::{Conversation, CONV_COLS};

mod counts;
pub use counts::{Count, TabCounts, COUNT_CAP, UNREAD_CAP};

/// The order of a list: urgent first then newest (the default), or newest only.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Sort {
    #[default]
    Priority,
    Newest,
    /// 不満の強い順: negative sentiment first, then newest.
    Dissatisfied,
}

/// Who looks after the conversations shown.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Assignee {
    #[default]
    Any,
    Unassigned,
    Staff(String),
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConversationFilter {
    /// `None`: every state.
    pub status: Option<ConversationStatus>,
    pub channel_id: Option<String>,
    pub team_id: Option<String>,
    pub assignee: Assignee,
    pub label_id: Option<String>,
    pub priority: Option<Priority>,
    /// Last message at or after (ms).
    pub from_ms: Option<i64>,
    /// Last message before (ms).
    pub until_ms: Option<i64>,
    pub sort: Sort,
}

/// Where the next page starts: the last row's sort key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cursor {
    pub priority: i64,
    pub at: i64,
    pub id: String,
}

impl Cursor {
    pub fn after(c: &Conversation) -> Self {
        Self {
            priority: c.priority,
            at: c.last_message_at,
            id: c.id.clone(),
        }
    }

    /// After `c` in `sort`: the leading key is the one the sort orders by (`priority` holds
    /// the dissatisfaction for [`Sort::Dissatisfied`]).
    pub fn after_in(c: &Conversation, sort: Sort) -> Self {
        match sort {
            Sort::Dissatisfied => Self {
                priority: c.dissatisfaction,
                ..Self::after(c)
            },
            _ => Self::after(c),
        }
    }

    /// `<priority>.<ms>.<uuid>`; anything malformed is `None` (from the first page).
    pub fn parse(s: &str) -> Option<Self> {
        let mut parts = s.splitn(3, '.');
        let priority = parts.next()?.parse().ok()?;
        let at = parts.next()?.parse().ok()?;
        let id = uuid::Uuid::try_parse(parts.next()?).ok()?.to_string();
        Some(Self { priority, at, id })
    }

    pub fn encode(&self) -> String {
        format!("{}.{}.{}", self.priority, self.at, self.id)
    }
}

#[derive(Clone, Debug)]
enum Bind {
    Text(String),
    Int(i64),
}

/// SQL text and its binds, numbered as they are added.
#[derive(Default)]
pub(crate) struct Sql {
    binds: Vec<Bind>,
}

impl Sql {
    fn text(&mut self, v: &str) -> String {
        self.binds.push(Bind::Text(v.to_owned()));
        format!("${}", self.binds.len())
    }
    fn int(&mut self, v: i64) -> String {
        self.binds.push(Bind::Int(v));
        format!("${}", self.binds.len())
    }
    fn bind<'q, O>(
        &self,
        mut q: sqlx::query::QueryAs<'q, Any, O, sqlx::any::AnyArguments<'q>>,
    ) -> sqlx::query::QueryAs<'q, Any, O, sqlx::any::AnyArguments<'q>> {
        for b in &self.binds {
            q = match b {
                Bind::Text(s) => q.bind(s.clone()),
                Bind::Int(i) => q.bind(*i),
            };
        }
        q
    }
}

/// A label on at most this many of the clinic's conversations is read from its own index
/// first (the few rows it names, then sorted); a commoner one is checked row by row along the
/// view's index, which finds a page long before the end.
const FEW_LABELLED: i64 = 2_000;

impl ConversationFilter {
    /// Whether the label facet names few enough conversations to read them first (one capped
    /// count on the label's index).
    async fn label_drives(
        &self,
        conn: &mut AnyConnection,
        clinic: &ClinicId,
    ) -> anyhow::Result<bool> {
        let Some(label) = &self.label_id else {
            return Ok(false);
        };
        let n: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM (SELECT 1 FROM conversation_labels
             WHERE label_id = $1 AND clinic_id = $2 LIMIT $3) few",
        )
        .bind(label)
        .bind(clinic.as_str())
        .bind(FEW_LABELLED + 1)
        .fetch_one(conn)
        .await
        .context("counting a label's conversations")?;
        Ok(n <= FEW_LABELLED)
    }

    /// What the rows are read from: the conversations, or the label's few rows joined to them
    /// in that order (SQLite keeps a CROSS JOIN's order; PostgreSQL plans by its statistics).
    fn source(&self, sql: &mut Sql, drives: bool, sqlite: bool) -> String {
        match (&self.label_id, drives) {
            (Some(l), true) => format!(
                "(SELECT conversation_id AS labelled FROM conversation_labels WHERE label_id = {}) few
                 {} conversations ON conversations.id = few.labelled",
                sql.text(l),
                if sqlite { "CROSS JOIN" } else { "JOIN" }
            ),
            _ => "conversations".into(),
        }
    }

    /// The conditions other than state, each starting with ` AND `; the label's is left out
    /// when the rows come from it (`source`).
    fn facets(&self, sql: &mut Sql, drives: bool) -> String {
        let mut w = String::new();
        if let Some(c) = &self.channel_id {
            w += &format!(" AND channel_id = {}", sql.text(c));
        }
        if let Some(t) = &self.team_id {
            w += &format!(" AND team_id = {}", sql.text(t));
        }
        match &self.assignee {
            Assignee::Any => {}
            Assignee::Unassigned => w += " AND assignee_id IS NULL",
            Assignee::Staff(s) => w += &format!(" AND assignee_id = {}", sql.text(s)),
        }
        if let Some(p) = self.priority {
            w += &format!(" AND priority = {}", sql.int(p.as_i64()));
        }
        if let Some(f) = self.from_ms {
            w += &format!(" AND last_message_at >= {}", sql.int(f));
        }
        if let Some(u) = self.until_ms {
            w += &format!(" AND last_message_at < {}", sql.int(u));
        }
        if let (Some(l), false) = (&self.label_id, drives) {
            w += &format!(
                " AND EXISTS (SELECT 1 FROM conversation_labels cl WHERE cl.conversation_id = conversations.id AND cl.label_id = {})",
                sql.text(l)
            );
        }
        w
    }

    fn order(&self) -> &'static str {
        match self.sort {
            Sort::Priority => "priority DESC, last_message_at DESC, id DESC",
            Sort::Newest => "last_message_at DESC, id DESC",
            Sort::Dissatisfied => "dissatisfaction DESC, last_message_at DESC, id DESC",
        }
    }

    fn after(&self, sql: &mut Sql, cursor: Option<&Cursor>) -> String {
        let Some(c) = cursor else {
            return String::new();
        };
        let (at, id) = (sql.int(c.at), sql.text(&c.id));
        match self.sort {
            // Row values: both databases walk the index from the cursor on.
            Sort::Priority => {
                let p = sql.int(c.priority);
                format!(" AND (priority, last_message_at, id) < ({p}, {at}, {id})")
            }
            Sort::Newest => format!(" AND (last_message_at, id) < ({at}, {id})"),
            Sort::Dissatisfied => {
                let d = sql.int(c.priority);
                format!(" AND (dissatisfaction, last_message_at, id) < ({d}, {at}, {id})")
            }
        }
    }

    /// With a date range, urgent-first rows are read one priority at a time: each leg seeks
    /// straight to the range inside its priority in the state's index, where one walk in
    /// priority order would check every row of the state newer than the range first (a month
    /// two months back: tens of thousands). Priorities are only ever written from
    /// `Priority::ALL` (`state::set_priority`, verification's raise to high).
    fn by_priority(&self) -> bool {
        self.sort == Sort::Priority
            && self.priority.is_none()
            && (self.from_ms.is_some() || self.until_ms.is_some())
    }

    /// The cursor's condition inside the leg of priority `p`: `None` when the whole leg lies
    /// before the cursor (already shown).
    fn after_in(&self, sql: &mut Sql, cursor: Option<&Cursor>, p: i64) -> Option<String> {
        let Some(c) = cursor else {
            return Some(String::new());
        };
        match p.cmp(&c.priority) {
            std::cmp::Ordering::Greater => None,
            std::cmp::Ordering::Less => Some(String::new()),
            std::cmp::Ordering::Equal => {
                let (at, id) = (sql.int(c.at), sql.text(&c.id));
                Some(format!(" AND (last_message_at, id) < ({at}, {id})"))
            }
        }
    }

    /// One page, `limit` rows after `cursor`, as staff see the states at `now_ms`.
    pub async fn list(
        &self,
        conn: &mut AnyConnection,
        clinic: &ClinicId,
        now_ms: i64,
        cursor: Option<&Cursor>,
        limit: i64,
    ) -> anyhow::Result<Vec<Conversation>> {
        let drives = self.label_drives(conn, clinic).await?;
        let sqlite = conn.backend_name() == "SQLite";
        let mut sql = Sql::default();
        let clinic_b = sql.text(clinic.as_str());
        let from = self.source(&mut sql, drives, sqlite);
        let facets = self.facets(&mut sql, drives);
        // Each entry: the conditions of one leg after state (priority, cursor).
        let tails: Vec<String> = if self.by_priority() {
            Priority::ALL
                .iter()
                .filter_map(|p| {
                    let after = self.after_in(&mut sql, cursor, p.as_i64())?;
                    Some(format!(
                        " AND priority = {}{facets}{after}",
                        sql.int(p.as_i64())
                    ))
                })
                .collect()
        } else {
            vec![facets.clone() + &self.after(&mut sql, cursor)]
        };
        let lim = sql.int(limit);
        let order = self.order();
        let leg = |state: &str| {
            let legs: Vec<String> = tails
                .iter()
                .map(|rest| {
                    format!(
                        "SELECT * FROM (SELECT {CONV_COLS} FROM {from} WHERE clinic_id = {clinic_b}{state}{rest}
                         ORDER BY {order} LIMIT {lim}) leg"
                    )
                })
                .collect();
            match legs.len() {
                // Every leg lies before the cursor: nothing is left.
                0 => format!("SELECT {CONV_COLS} FROM conversations WHERE 1 = 0"),
                1 => legs[0].clone(),
                _ => format!(
                    "SELECT {CONV_COLS} FROM ({}) legs ORDER BY {order} LIMIT {lim}",
                    legs.join(" UNION ALL ")
                ),
            }
        };
        let text = match self.status {
            None => leg(""),
            // Open rows by their index, plus the few snoozed ones whose time has come (their
            // own small index): each leg stops after a page, only two pages are sorted.
            Some(ConversationStatus::Open) => {
                let now = sql.int(now_ms);
                format!(
                    "SELECT {CONV_COLS} FROM (
                       SELECT * FROM ({}) open_rows
                       UNION ALL
                       SELECT * FROM ({}) woken_rows
                     ) u ORDER BY {order} LIMIT {lim}",
                    leg(" AND status = 'open'"),
                    leg(&format!(
                        " AND status = 'snoozed' AND snoozed_until <= {now}"
                    )),
                )
            }
            Some(ConversationStatus::Snoozed) => {
                let now = sql.int(now_ms);
                leg(&format!(
                    " AND status = 'snoozed' AND snoozed_until > {now}"
                ))
            }
            Some(s) => leg(&format!(" AND status = '{}'", s.as_str())),
        };
        sql.bind(sqlx::query_as::<_, Conversation>(&text))
            .fetch_all(conn)
            .await
            .context("listing conversations")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_round_trips_and_garbage_is_ignored() {
        let c = Cursor {
            priority: -1,
            at: 42,
            id: tsunagu_core::new_id(),
        };
        assert_eq!(Cursor::parse(&c.encode()), Some(c));
        assert_eq!(Cursor::parse("1.42.' OR 1=1"), None);
        assert_eq!(Cursor::parse("x.y.z"), None);
    }
}
