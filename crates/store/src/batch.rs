//! Several statements sent as one call. On SQLite each sqlx call is a trip to the connection's
//! thread, which costs more than the small statements ingest makes, so the statements of one
//! step go as ONE text whose numbered arguments run across the whole text (`$1`…`$n`, shared by
//! every statement in it). PostgreSQL's protocol takes one statement per prepared query, so
//! there the same statements run one by one, in order.
//!
//! Each statement is a `&'static str` written by the module that owns its table, numbered
//! `$1`… in the order its arguments are bound (`arg`); `{ref}` stands for a row it names through
//! a `Ref`, whose id is bound last. The text of a sequence of statements is put together once
//! and kept (`texts`): building it each time cost more instructions than running it, and the
//! same text lets SQLite reuse the statements it prepared (sqlx caches them by their text).
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use anyhow::Context;
use sqlx::any::{AnyArguments, AnyRow};
use sqlx::{Any, AnyConnection, Arguments, Encode, Row, Type};

/// A row a statement names: by its id, or through another row (`ByRow`): a statement queued
/// before the rows exist (a message's sender, known once the message is inserted) finds it
/// when it runs.
#[derive(Clone, Debug)]
pub enum Ref {
    Id(String),
    /// `query` with `{}` standing for `id`, e.g.
    /// `("SELECT sender_identity_id FROM messages WHERE id = {}", message id)`.
    ByRow(&'static str, String),
}

impl Ref {
    fn id(&self) -> &str {
        match self {
            Ref::Id(id) | Ref::ByRow(_, id) => id,
        }
    }

    fn query(&self) -> Option<&'static str> {
        match self {
            Ref::Id(_) => None,
            Ref::ByRow(query, _) => Some(query),
        }
    }
}

/// One statement as pushed: its text, the query of its `Ref`, its argument count, and the
/// name of the row that says whether it changed anything (`push_counted`).
#[derive(Clone, Copy)]
struct Part {
    sql: &'static str,
    by_row: Option<&'static str>,
    args: usize,
    counted: Option<&'static str>,
}

impl Part {
    /// Told apart by where their texts are (static, so each is where it always was): hashing
    /// the texts themselves would cost as much as writing them.
    fn key(&self) -> [usize; 5] {
        let at = |s: Option<&'static str>| s.map_or(0, |s| s.as_ptr() as usize);
        let sql = at(Some(self.sql));
        [
            sql,
            self.sql.len(),
            at(self.by_row),
            self.args,
            at(self.counted),
        ]
    }
}

impl PartialEq for Part {
    fn eq(&self, other: &Self) -> bool {
        self.key() == other.key()
    }
}

impl Eq for Part {}

impl std::hash::Hash for Part {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.key().hash(state);
    }
}

pub struct Batch {
    /// One text for the whole batch (SQLite), else one statement per part.
    joined: bool,
    parts: Vec<Part>,
    /// Every argument (SQLite), or those of the statement being written (PostgreSQL).
    args: AnyArguments<'static>,
    /// Arguments of the statement being written.
    pending: usize,
    /// The arguments of each statement pushed (PostgreSQL).
    done: Vec<AnyArguments<'static>>,
    /// What each statement does, for the error of the call.
    what: Vec<&'static str>,
    /// The first argument that did not encode (never for the text and numbers bound here).
    bad_arg: Option<sqlx::error::BoxDynError>,
    /// Search documents go to the group writer's pending table, indexed at its commit
    /// (`search::push_doc`).
    defer_index: bool,
    /// A document was left there (its commit has something to index).
    pending_docs: bool,
}

impl Batch {
    /// A batch for `conn`'s database.
    pub fn new(conn: &AnyConnection) -> Self {
        Self::for_sqlite(conn.backend_name() == "SQLite")
    }

    /// A batch for a database of `backend`.
    pub fn for_backend(backend: crate::Backend) -> Self {
        Self::for_sqlite(backend == crate::Backend::Sqlite)
    }

    fn for_sqlite(joined: bool) -> Self {
        Batch {
            joined,
            parts: Vec::new(),
            args: AnyArguments::default(),
            pending: 0,
            done: Vec::new(),
            what: Vec::new(),
            bad_arg: None,
            defer_index: false,
            pending_docs: false,
        }
    }

    /// As this batch, its search documents indexed when the group transaction commits (SQLite;
    /// only for batches the group writer runs: it alone has the pending table).
    pub(crate) fn deferring_index(mut self) -> Self {
        self.defer_index = self.joined;
        self
    }

    /// Whether search documents are left for the group commit to index.
    pub(crate) fn defers_index(&self) -> bool {
        self.defer_index
    }

    /// Says a search document was left for the group commit (`search::push_doc`).
    pub(crate) fn left_pending(&mut self) {
        self.pending_docs = true;
    }

    /// Whether this batch left search documents for the group commit to index.
    pub(crate) fn has_pending_docs(&self) -> bool {
        self.pending_docs
    }

    /// Binds the next argument of the statement being written (`$1`, `$2`… in this order).
    pub fn arg<T>(&mut self, value: T)
    where
        T: 'static + Encode<'static, Any> + Type<Any>,
    {
        if let Err(e) = self.args.add(value) {
            self.bad_arg.get_or_insert(e);
        }
        self.pending += 1;
    }

    /// Ends the statement being written: `sql`, numbered from `$1` (`what` it does, for errors:
    /// "storing the message").
    pub fn push(&mut self, sql: &'static str, what: &'static str) {
        self.end(sql, None, None, what);
    }

    /// As `push`, for a statement naming `row` as `{ref}` (its id is bound last).
    pub fn push_ref(&mut self, sql: &'static str, row: &Ref, what: &'static str) {
        self.arg(row.id().to_owned());
        self.end(sql, row.query(), None, what);
    }

    /// As `push_ref` (`row`: `None` when `sql` has no `{ref}`), for an INSERT or UPDATE
    /// followed by a row named `name` that says whether it changed a row (`changed`): SQLite's
    /// `changes()` after it, PostgreSQL's `RETURNING` (SQLite buffers `RETURNING` rows in a
    /// temporary table, which costs more than the statement).
    pub fn push_counted(
        &mut self,
        sql: &'static str,
        row: Option<&Ref>,
        name: &'static str,
        what: &'static str,
    ) {
        if let Some(row) = row {
            self.arg(row.id().to_owned());
        }
        self.end(sql, row.and_then(Ref::query), Some(name), what);
    }

    fn end(
        &mut self,
        sql: &'static str,
        by_row: Option<&'static str>,
        counted: Option<&'static str>,
        what: &'static str,
    ) {
        self.parts.push(Part {
            sql,
            by_row,
            args: self.pending,
            counted,
        });
        self.what.push(what);
        self.pending = 0;
        if !self.joined {
            self.done.push(std::mem::take(&mut self.args));
        }
    }

    pub fn is_empty(&self) -> bool {
        self.parts.is_empty()
    }

    /// Whether the statements are SQLite's (all in one text), for what differs by dialect.
    pub fn is_sqlite(&self) -> bool {
        self.joined
    }

    /// Queues `other`'s statements after these (both for the same database).
    pub fn append(&mut self, other: Batch) {
        debug_assert_eq!(self.joined, other.joined);
        debug_assert_eq!(self.pending, 0, "a statement is being written");
        self.parts.extend(other.parts);
        self.what.extend(other.what);
        self.done.extend(other.done);
        self.args.values.0.extend(other.args.values.0);
        self.pending_docs |= other.pending_docs;
        if let Some(e) = other.bad_arg {
            self.bad_arg.get_or_insert(e);
        }
    }

    /// Runs every statement, in order, and returns the rows they return (`SELECT`, counted
    /// changes), in order.
    pub async fn run(self, conn: &mut AnyConnection) -> anyhow::Result<Vec<AnyRow>> {
        if let Some(e) = self.bad_arg {
            return Err(anyhow::anyhow!(e)).with_context(|| self.what.join(", "));
        }
        if self.parts.is_empty() {
            return Ok(Vec::new());
        }
        let texts = texts(self.joined, &self.parts);
        let what = self.what;
        if self.joined {
            return sqlx::query_with::<Any, _>(&texts[0], self.args)
                .fetch_all(conn)
                .await
                .with_context(|| what.join(", "));
        }
        let mut rows = Vec::new();
        for ((sql, args), what) in texts.iter().zip(self.done).zip(what) {
            rows.extend(
                sqlx::query_with::<Any, _>(sql, args)
                    .fetch_all(&mut *conn)
                    .await
                    .context(what)?,
            );
        }
        Ok(rows)
    }
}

/// Sequences of statements put together so far (the code makes a few dozen).
type Texts = HashMap<(bool, Vec<Part>), Arc<Vec<String>>>;
static TEXTS: Mutex<Option<Texts>> = Mutex::new(None);
/// A bound on what is kept, should some caller ever vary its statements without end.
const KEPT: usize = 512;

/// The text to send for `parts`: one (SQLite) or one per statement (PostgreSQL).
fn texts(joined: bool, parts: &[Part]) -> Arc<Vec<String>> {
    let key = (joined, parts.to_vec());
    let mut kept = TEXTS.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(texts) = kept.as_ref().and_then(|k| k.get(&key)) {
        return texts.clone();
    }
    let texts = Arc::new(write(joined, parts));
    let kept = kept.get_or_insert_with(HashMap::new);
    if kept.len() < KEPT {
        kept.insert(key, texts.clone());
    }
    texts
}

fn write(joined: bool, parts: &[Part]) -> Vec<String> {
    let mut offset = 0;
    let mut out: Vec<String> = Vec::new();
    for p in parts {
        let mut sql = match p.by_row {
            Some(query) => p.sql.replace(
                "{ref}",
                &format!("({})", query.replace("{}", &format!("${}", p.args))),
            ),
            None => p.sql.replace("{ref}", &format!("${}", p.args)),
        };
        match (p.counted, joined) {
            (Some(name), true) => sql += &format!(";\nSELECT changes() AS {name}"),
            (Some(name), false) => sql += &format!(" RETURNING 1 AS {name}"),
            (None, _) => {}
        }
        if joined {
            let sql = renumber(&sql, offset);
            match out.first_mut() {
                Some(all) => {
                    all.push_str(";\n");
                    all.push_str(&sql);
                }
                None => out.push(sql),
            }
            offset += p.args;
        } else {
            out.push(sql);
        }
    }
    out
}

/// `$n` → `$(n + offset)` (statements here have no `$` in literals).
fn renumber(sql: &str, offset: usize) -> String {
    if offset == 0 {
        return sql.to_owned();
    }
    let mut out = String::with_capacity(sql.len() + 16);
    let mut rest = sql;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..=at]);
        rest = &rest[at + 1..];
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        match rest[..digits].parse::<usize>() {
            Ok(n) => out.push_str(&(n + offset).to_string()),
            Err(_) => out.push_str(&rest[..digits]),
        }
        rest = &rest[digits..];
    }
    out.push_str(rest);
    out
}

/// The first row that has `column` (statements of a batch tell their rows apart by the names
/// of their columns).
pub fn row_with<'r>(rows: &'r [AnyRow], column: &str) -> Option<&'r AnyRow> {
    rows.iter().find(|r| r.try_column(column).is_ok())
}

/// The rows of a call cut at each row that has `mark` (a `SELECT 1 AS <mark>` pushed between
/// parts' statements), the marks left out: one list per part, in order.
pub fn split(rows: Vec<AnyRow>, mark: &str) -> Vec<Vec<AnyRow>> {
    let mut parts = Vec::new();
    let mut part = Vec::new();
    for row in rows {
        if row.try_column(mark).is_ok() {
            parts.push(std::mem::take(&mut part));
        } else {
            part.push(row);
        }
    }
    parts.push(part);
    parts
}

/// The rows of a call cut after each row that has `last` (the one row each part ends with).
pub fn split_after(rows: Vec<AnyRow>, last: &str) -> Vec<Vec<AnyRow>> {
    let mut parts = Vec::new();
    let mut part = Vec::new();
    for row in rows {
        let ends = row.try_column(last).is_ok();
        part.push(row);
        if ends {
            parts.push(std::mem::take(&mut part));
        }
    }
    if !part.is_empty() {
        parts.push(part);
    }
    parts
}

/// Whether the statement `push_counted` named `name` changed a row.
pub fn changed(rows: &[AnyRow], name: &str) -> bool {
    row_with(rows, name).is_some_and(|r| r.try_get::<i64, _>(name).is_ok_and(|n| n > 0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_are_numbered_across_the_whole_text_on_sqlite() {
        assert_eq!(
            renumber("a = $1 AND b = $2 OR c = $1", 3),
            "a = $4 AND b = $5 OR c = $4"
        );
        assert_eq!(renumber("x = $12", 0), "x = $12");
    }

    #[test]
    fn a_row_named_through_another_is_bound_last_and_counted_per_dialect() {
        let parts = [
            Part {
                sql: "INSERT INTO t VALUES ($1, $2)",
                by_row: None,
                args: 2,
                counted: None,
            },
            Part {
                sql: "UPDATE u SET a = $1 WHERE id = {ref}",
                by_row: Some("SELECT u_id FROM t WHERE id = {}"),
                args: 2,
                counted: Some("changed_u"),
            },
        ];
        assert_eq!(
            write(true, &parts),
            ["INSERT INTO t VALUES ($1, $2);\nUPDATE u SET a = $3 WHERE id = (SELECT u_id FROM t WHERE id = $4);\nSELECT changes() AS changed_u"]
        );
        assert_eq!(
            write(false, &parts),
            [
                "INSERT INTO t VALUES ($1, $2)",
                "UPDATE u SET a = $1 WHERE id = (SELECT u_id FROM t WHERE id = $2) RETURNING 1 AS changed_u"
            ]
        );
    }
}
