//! The generic check that erasure left nothing: every column of every table, as the database
//! reports its schema, searched for every needle (ids, the LINE user ids, name, texts).
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly

use crate::common::TestApp;

/// Every (table, column) of the schema, as the database reports it.
async fn all_columns(app: &TestApp) -> Vec<(String, String)> {
    let sql = match app.db.backend() {
        tsunagu_store::Backend::Postgres => {
            "SELECT CAST(table_name AS TEXT), CAST(column_name AS TEXT) FROM information_schema.columns
             WHERE table_schema = current_schema()"
        }
        tsunagu_store::Backend::Sqlite => {
            "SELECT m.name, p.name FROM sqlite_master m JOIN pragma_table_info(m.name) p WHERE m.type = 'table'"
        }
    };
    sqlx::query_as(sql).fetch_all(app.db.pool()).await.unwrap()
}

/// (table.column, needle) wherever a needle still appears, outside the audit ids.
pub async fn mentions(app: &TestApp, needles: &[String], patient: &str) -> Vec<(String, String)> {
    let mut found = Vec::new();
    for (table, column) in all_columns(app).await {
        if table == "audit_events" || table.starts_with("sqlite_") || table == "_sqlx_migrations" {
            continue;
        }
        for n in needles {
            if table == "erasures" && column == "patient_id" && n == patient {
                continue; // the ledger's one id
            }
            let sql = format!(
                "SELECT COUNT(*) FROM \"{table}\" WHERE CAST(\"{column}\" AS TEXT) LIKE $1"
            );
            let c: i64 = sqlx::query_scalar(&sql)
                .bind(format!("%{n}%"))
                .fetch_one(app.db.pool())
                .await
                .unwrap();
            if c > 0 {
                found.push((format!("{table}.{column}"), n.clone()));
            }
        }
    }
    found
}
