//! Many rows in one INSERT: a statement's round trip is paid once per ~1,000 values. Not more:
//! SQLite looks up each `$n` among the statement's earlier ones (they are names to it), so the
//! cost of a statement grows with the square of its values.
use anyhow::Context;
use sqlx::AnyConnection;

/// A value bound to a row.
#[derive(Clone, Debug)]
pub enum Val {
    Text(Option<String>),
    Int(Option<i64>),
}

impl From<&str> for Val {
    fn from(s: &str) -> Val {
        Val::Text(Some(s.to_owned()))
    }
}
impl From<String> for Val {
    fn from(s: String) -> Val {
        Val::Text(Some(s))
    }
}
impl From<Option<String>> for Val {
    fn from(s: Option<String>) -> Val {
        Val::Text(s)
    }
}
impl From<i64> for Val {
    fn from(i: i64) -> Val {
        Val::Int(Some(i))
    }
}
impl From<Option<i64>> for Val {
    fn from(i: Option<i64>) -> Val {
        Val::Int(i)
    }
}

/// Rows for one table, flushed `INSERT … VALUES (…), (…)` when enough have gathered.
pub struct Rows {
    head: String,
    width: usize,
    per_statement: usize,
    vals: Vec<Val>,
    pub written: u64,
}

impl Rows {
    pub fn new(table: &str, columns: &[&str]) -> Rows {
        let width = columns.len();
        Rows {
            head: format!("INSERT INTO {table} ({}) VALUES ", columns.join(", ")),
            width,
            per_statement: (1_000 / width).max(1),
            vals: Vec::new(),
            written: 0,
        }
    }

    /// Adds a row; writes a statement's worth when it is full.
    pub async fn push(&mut self, conn: &mut AnyConnection, row: Vec<Val>) -> anyhow::Result<()> {
        anyhow::ensure!(
            row.len() == self.width,
            "a row of the wrong width for {}",
            self.head
        );
        self.vals.extend(row);
        if self.vals.len() >= self.per_statement * self.width {
            self.flush(conn).await?;
        }
        Ok(())
    }

    /// Writes what is left.
    pub async fn flush(&mut self, conn: &mut AnyConnection) -> anyhow::Result<()> {
        if self.vals.is_empty() {
            return Ok(());
        }
        let rows = self.vals.len() / self.width;
        let mut sql = String::with_capacity(self.head.len() + rows * self.width * 7);
        sql.push_str(&self.head);
        for r in 0..rows {
            if r > 0 {
                sql.push_str(", ");
            }
            sql.push('(');
            for c in 0..self.width {
                if c > 0 {
                    sql.push_str(", ");
                }
                sql.push_str(&format!("${}", r * self.width + c + 1));
            }
            sql.push(')');
        }
        let mut q = sqlx::query(&sql);
        for v in self.vals.drain(..) {
            q = match v {
                Val::Text(t) => q.bind(t),
                Val::Int(i) => q.bind(i),
            };
        }
        q.execute(&mut *conn)
            .await
            .with_context(|| format!("writing rows: {}", &self.head))?;
        self.written += rows as u64;
        Ok(())
    }
}
