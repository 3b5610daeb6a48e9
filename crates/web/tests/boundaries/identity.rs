//! The identity page's forms on the patient's own page: they still work, and they say they did
//! something only when they did (a second revoke or unlock changes nothing and says so).
use super::snapshot::{diff, reads_removed, snapshot, Snapshot};
use super::world::world;

fn fields(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// Nothing but the read of the page shown again with the refusal.
fn unchanged(before: &Snapshot, after: &Snapshot) -> bool {
    diff(&reads_removed(before), &reads_removed(after)).is_empty()
}

#[tokio::test]
async fn unlock_and_revoke_act_on_the_patients_own_identity_and_proxy_once() {
    let w = world().await;
    let a = &w.a;
    let unlock = format!("/app/patients/{}/identity/unlock", a.patient);
    let form = fields(&[("identity_id", &a.identity)]);
    let res = w.form("POST", &unlock, &form).await;
    assert_eq!(res.status.as_u16(), 303);
    assert!(res.location().ends_with("?done=unlocked"));
    assert_eq!(
        w.app.audits("identity.verification_unlocked").await.len(),
        1
    );
    let before = snapshot(&w.app.db).await;
    let res = w.form("POST", &unlock, &form).await;
    assert_eq!(res.status.as_u16(), 422, "nothing left to unlock");
    assert!(unchanged(&before, &snapshot(&w.app.db).await));

    let revoke = format!("/app/patients/{}/identity/proxies/revoke", a.patient);
    let form = fields(&[("proxy_id", &a.proxy)]);
    let res = w.form("POST", &revoke, &form).await;
    assert_eq!(res.status.as_u16(), 303);
    assert!(res.location().ends_with("?done=proxy_revoked"));
    assert_eq!(w.app.audits("patient.proxy_revoked").await.len(), 1);
    let before = snapshot(&w.app.db).await;
    let res = w.form("POST", &revoke, &form).await;
    assert_eq!(res.status.as_u16(), 422, "already revoked");
    assert!(unchanged(&before, &snapshot(&w.app.db).await));
}

#[tokio::test]
async fn a_link_is_made_from_the_identitys_patient_and_undone_from_either_end() {
    let w = world().await;
    let a = &w.a;
    let link = format!("/app/patients/{}/identity/link", a.patient);
    let form = fields(&[
        ("identity_id", &a.identity_unlocked),
        ("patient_id", &a.other),
        ("reason", "受付で確認"),
    ]);
    let res = w.form("POST", &link, &form).await;
    assert_eq!(res.status.as_u16(), 303, "{}", res.text);
    assert_eq!(
        res.location(),
        format!("/app/patients/{}/identity?done=linked", a.other)
    );
    let made: String = sqlx::query_scalar(
        "SELECT id FROM identity_links WHERE identity_id = $1 AND undone_at IS NULL",
    )
    .bind(&a.identity_unlocked)
    .fetch_one(w.app.db.pool())
    .await
    .unwrap();
    // The link shows on both patients' pages; undone here from the record it moved to.
    let undo = format!("/app/patients/{}/identity/undo", a.other);
    let res = w.form("POST", &undo, &fields(&[("link_id", &made)])).await;
    assert_eq!(res.status.as_u16(), 303, "{}", res.text);
    assert_eq!(w.app.audits("identity.link_undone").await.len(), 1);
    // The seeded link is P1's: undone from P1's page.
    let undo = format!("/app/patients/{}/identity/undo", a.patient);
    let res = w
        .form("POST", &undo, &fields(&[("link_id", &a.link)]))
        .await;
    assert_eq!(res.status.as_u16(), 303, "{}", res.text);
    assert_eq!(w.app.audits("identity.link_undone").await.len(), 2);
}
