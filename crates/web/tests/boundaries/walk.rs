//! Clinic A's owner calls every mutating route with ids that are not theirs to act on through
//! that path: each answers as listed (404 mostly) and no table changes, audit trail included.
use super::routes::{Case, Send};
use super::snapshot::{diff, reads_removed, snapshot};
use super::world::{world, World};
use super::{routes_api, routes_ui};

async fn walk(w: &World, cases: Vec<Case>) -> Vec<String> {
    let mut failures = Vec::new();
    for c in cases {
        let before = snapshot(&w.app.db).await;
        let res = match &c.send {
            Send::Form(fields) => w.form(c.method, &c.path, fields).await,
            Send::Json(body) => w.api(c.method, &c.path, body.as_ref()).await,
        };
        let after = snapshot(&w.app.db).await;
        // A 404 writes nothing; a refusal shows the page again, which only reads.
        let changed = match c.expect {
            404 => diff(&before, &after),
            _ => diff(&reads_removed(&before), &reads_removed(&after)),
        };
        if res.status.as_u16() != c.expect || !changed.is_empty() {
            failures.push(format!(
                "{} {} — {}: {} (expected {}) {} changed: {changed:?}",
                c.method,
                c.route,
                c.what,
                res.status.as_u16(),
                c.expect,
                res.location(),
            ));
        }
    }
    failures
}

#[tokio::test]
async fn staff_ui_routes_refuse_other_clinics_and_other_patients_ids() {
    let w = world().await;
    let failures = walk(&w, routes_ui::cases(&w)).await;
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
async fn api_routes_refuse_other_clinics_ids() {
    let w = world().await;
    let failures = walk(&w, routes_api::cases(&w)).await;
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
