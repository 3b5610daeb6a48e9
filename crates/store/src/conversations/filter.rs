//! The one conversation filter: the inbox's tabs and saved views, `GET /api/v1/conversations`
//! and (later) search share it. It writes its own WHERE and binds, so every reader scopes by
//! clinic and treats a snoozed conversation whose time has come as open in the same way.
use anyhow::Context;
use sqlx::{Any, AnyConnection};
use tsunagu_core::{ClinicId, ConversationStatus, Priority};

use super::{Conversation, CONV_COLS};

/// The order of a list: urgent first then newest (the default), or newest only.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Sort {
    #[default]
    Priority,
    Newest,
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

impl ConversationFilter {
    /// The conditions other than state, each starting with ` AND `.
    fn facets(&self, sql: &mut Sql) -> String {
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
        if let Some(l) = &self.label_id {
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
        let mut sql = Sql::default();
        let clinic_b = sql.text(clinic.as_str());
        let rest = self.facets(&mut sql) + &self.after(&mut sql, cursor);
        let lim = sql.int(limit);
        let order = self.order();
        let leg = |state: &str| {
            format!(
                "SELECT {CONV_COLS} FROM conversations WHERE clinic_id = {clinic_b}{state}{rest}
                 ORDER BY {order} LIMIT {lim}"
            )
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
        let mut sql = Sql::default();
        let clinic_b = sql.text(clinic.as_str());
        let now = sql.int(now_ms);
        let me = sql.text(me);
        let rest = facets.facets(&mut sql);
        let due = format!("status = 'snoozed' AND snoozed_until <= {now}");
        // Each tab as legs that each walk an index (an OR would not).
        let open = |extra: &str| vec![format!("status = 'open'{extra}"), format!("{due}{extra}")];
        let tabs: [(Vec<String>, bool); 7] = [
            (open(""), true),
            (open(" AND assignee_id IS NULL"), true),
            (open(&format!(" AND assignee_id = {me}")), true),
            (vec!["status = 'pending'".into()], true),
            (
                vec![format!("status = 'snoozed' AND snoozed_until > {now}")],
                false,
            ),
            (vec!["status = 'resolved'".into()], false),
            (vec!["1 = 1".into()], false),
        ];
        let capped = |legs: &[String], extra: &str, cap: i64| {
            legs.iter()
                .map(|leg| {
                    format!(
                        "(SELECT COUNT(*) FROM (SELECT 1 FROM conversations WHERE clinic_id = {clinic_b} AND {leg}{extra}{rest} LIMIT {cap}) c)"
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
    n6: i64,
    u6: i64,
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
            all: c(r.n6, r.u6),
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
