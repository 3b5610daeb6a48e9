//! WhatsApp templates with Meta (the sandbox): a draft created through the API is submitted for
//! review by the sync job, and the review state Meta reports comes back to tsunagu.
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly
mod common;

#[path = "whatsapp/harness.rs"]
#[allow(dead_code)]
mod harness;

use harness::{spawn, WABA};
use reqwest::StatusCode;
use serde_json::json;

#[tokio::test]
async fn drafts_are_submitted_and_review_states_come_back() {
    let wa = spawn().await;
    let app = &wa.app;
    let path = format!("/api/v1/channels/{}/templates", wa.channel);
    let body = json!({"name": "flu_vaccine_open", "language": "ja", "category": "UTILITY",
        "body": "{{1}}様、インフルエンザ予防接種の予約受付を{{2}}から始めます。"});
    let (s, t) = app.api_post(&path, body).await;
    assert_eq!(s, StatusCode::CREATED, "{t}");
    assert_eq!(t["status"], "draft");
    assert!(
        wa.sb.templates(WABA).is_empty(),
        "nothing reaches Meta before a sync"
    );

    let (s, q) = app.api_post(&format!("{path}/sync"), json!({})).await;
    assert_eq!(s, StatusCode::ACCEPTED, "{q}");
    assert_eq!(q["queued"], true);
    // A second click in the same minute queues nothing more.
    let (_, q) = app.api_post(&format!("{path}/sync"), json!({})).await;
    assert_eq!(q["queued"], false);
    app.run_jobs().await;

    let at_meta = wa.sb.templates(WABA);
    assert_eq!(at_meta.len(), 1, "submitted once");
    let (_, list) = app.api_get(&path).await;
    let ours = &list["items"][0];
    assert_eq!(ours["status"], "pending", "{list}");
    assert!(
        ours["provider_template_id"]
            .as_str()
            .is_some_and(|id| !id.is_empty()),
        "{list}"
    );

    // Meta approves it; the next sync records that, and it can be sent.
    wa.sb.approve_template(WABA, "flu_vaccine_open");
    app.clock.advance(chrono::Duration::seconds(61));
    let (s, _) = app.api_post(&format!("{path}/sync"), json!({})).await;
    assert_eq!(s, StatusCode::ACCEPTED);
    app.run_jobs().await;
    let (_, list) = app.api_get(&path).await;
    assert_eq!(list["items"][0]["status"], "approved", "{list}");
    assert_eq!(
        wa.sb.templates(WABA).len(),
        1,
        "an approved template is not submitted again"
    );
}

#[tokio::test]
async fn a_rejection_at_meta_is_recorded() {
    let wa = spawn().await;
    let app = &wa.app;
    let path = format!("/api/v1/channels/{}/templates", wa.channel);
    let body = json!({"name": "spring_campaign", "language": "ja", "category": "MARKETING",
        "body": "春の健康診断キャンペーン実施中です。"});
    let (s, _) = app.api_post(&path, body).await;
    assert_eq!(s, StatusCode::CREATED);
    app.api_post(&format!("{path}/sync"), json!({})).await;
    app.run_jobs().await;
    wa.sb
        .reject_template(WABA, "spring_campaign", "PROMOTIONAL");
    app.clock.advance(chrono::Duration::seconds(61));
    app.api_post(&format!("{path}/sync"), json!({})).await;
    app.run_jobs().await;
    let (_, list) = app.api_get(&path).await;
    assert_eq!(list["items"][0]["status"], "rejected", "{list}");
    assert_eq!(list["items"][0]["status_reason"], "PROMOTIONAL", "{list}");
}

#[tokio::test]
async fn meta_announcing_a_review_by_webhook_brings_the_state_at_once() {
    let wa = spawn().await;
    let app = &wa.app;
    let path = format!("/api/v1/channels/{}/templates", wa.channel);
    let body = json!({"name": "checkup_result_ready", "language": "ja", "category": "UTILITY",
        "body": "{{1}}様、健診結果のご用意ができました。"});
    app.api_post(&path, body).await;
    app.api_post(&format!("{path}/sync"), json!({})).await;
    app.run_jobs().await;
    wa.sb.approve_template(WABA, "checkup_result_ready");
    // Meta's `message_template_status_update` webhook, in the same minute as the first sync.
    let update = json!({"object": "whatsapp_business_account", "entry": [{"id": WABA, "time": 1795400000,
        "changes": [{"field": "message_template_status_update", "value": {"event": "APPROVED",
            "message_template_id": 123456789, "message_template_name": "checkup_result_ready",
            "message_template_language": "ja", "reason": "NONE"}}]}]});
    let posted = wa
        .sb
        .post(harness::PHONE_ID, update.to_string().into_bytes())
        .await
        .unwrap();
    assert_eq!(posted.status, 200);
    app.run_jobs().await;
    let (_, list) = app.api_get(&path).await;
    assert_eq!(list["items"][0]["status"], "approved", "{list}");
}
