use axum::http::{Method, StatusCode};
use serde_json::Value;
use tsunagu_core::TokenScope;

use super::api_support::{app, App};

const BAD: &str = "氏名,フリガナ,生年月日,電話番号,診察券番号\n\
    山田 太郎,やまだ たろう,S50.4.1,090-1234-5678,001\n\
    佐藤 花子,サトウ ハナコ,1990-02-30,03-1234-5678,002\n\
    鈴木 一郎,スズキ イチロウ,1980-01-01,0120-12,003\n\
    田中 次郎,タナカ ジロウ,H2.1.8,,001\n";

async fn import(app: &App, token: &str, query: &str, csv: &[u8]) -> super::api_support::Res {
    import_keyed(app, token, query, csv, None).await
}

async fn import_keyed(
    app: &App,
    token: &str,
    query: &str,
    csv: &[u8],
    key: Option<&str>,
) -> super::api_support::Res {
    use axum::body::Body;
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let mut req = axum::http::Request::builder()
        .method(Method::POST)
        .uri(format!("/api/v1/patients/import{query}"))
        .header("authorization", format!("Bearer {token}"))
        .header("content-type", "text/csv; charset=shift_jis");
    if let Some(key) = key {
        req = req.header("idempotency-key", key);
    }
    let mut req = req.body(Body::from(csv.to_vec())).unwrap();
    let peer: std::net::SocketAddr = "203.0.113.7:40000".parse().unwrap();
    req.extensions_mut()
        .insert(axum::extract::ConnectInfo(peer));
    let res = app.router.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let bytes = res.into_body().collect().await.unwrap().to_bytes().to_vec();
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    super::api_support::Res {
        status,
        headers,
        bytes,
        body,
    }
}

#[tokio::test]
async fn a_dry_run_reports_every_bad_row_and_writes_nothing() {
    let app = app().await;
    let s = app.clinic("sakura").await;
    let admin = app.token(&s.clinic, &[TokenScope::Admin]).await;
    let res = import(&app, &admin, "", BAD.as_bytes()).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(res.body["dry_run"], true);
    assert_eq!(res.body["summary"]["error"], 3);
    let errors: Vec<(u64, String)> = res.body["rows"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| {
            let line = r["line"].as_u64().unwrap();
            r["errors"]
                .as_array()
                .unwrap()
                .iter()
                .map(move |e| (line, e["code"].as_str().unwrap().to_string()))
        })
        .collect();
    assert_eq!(
        errors,
        [
            (3, "invalid_birth_date".into()),
            (4, "invalid_phone_number".into()),
            (5, "duplicate_card_number_in_file".into())
        ]
    );
    let res = import(&app, &admin, "?dry_run=false", BAD.as_bytes()).await;
    assert_eq!(
        (res.status, res.code()),
        (StatusCode::UNPROCESSABLE_ENTITY, "import_has_errors")
    );
    assert_eq!(res.body["plan"]["summary"]["error"], 3);
    assert_eq!(
        app.scalar(
            "SELECT COUNT(*) FROM patients WHERE clinic_id = $1",
            s.clinic.as_str()
        )
        .await,
        0
    );
}

#[tokio::test]
async fn a_confirmed_shift_jis_import_is_applied_once_and_a_stale_token_refused() {
    let app = app().await;
    let s = app.clinic("sakura").await;
    let admin = app.token(&s.clinic, &[TokenScope::Admin]).await;
    let text = "氏名,ﾌﾘｶﾞﾅ,電話番号,診察券番号,タグ\r\n山田 太郎,ﾔﾏﾀﾞ ﾀﾛｳ,０９０１２３４５６７８,001,糖尿病、定期\r\n佐藤 花子,さとう はなこ,,002,\r\n";
    let (sjis, _, _) = encoding_rs::SHIFT_JIS.encode(text);
    let plan = import(&app, &admin, "?dry_run=true", &sjis).await;
    assert_eq!(plan.body["encoding"], "Shift_JIS");
    assert_eq!(
        (
            plan.body["summary"]["create"].as_u64(),
            plan.body["summary"]["error"].as_u64()
        ),
        (Some(2), Some(0))
    );
    let token = plan.body["token"].as_str().unwrap().to_string();
    let res = import(
        &app,
        &admin,
        &format!("?dry_run=false&plan_token={token}"),
        &sjis,
    )
    .await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(res.body["applied"], true);
    assert_eq!(
        app.scalar(
            "SELECT COUNT(*) FROM patients WHERE clinic_id = $1",
            s.clinic.as_str()
        )
        .await,
        2
    );
    assert_eq!(app.audits("patient.import").await.len(), 1);
    // The same token again: the cards now exist, so the plan would update instead.
    let res = import(
        &app,
        &admin,
        &format!("?dry_run=false&plan_token={token}"),
        &sjis,
    )
    .await;
    assert_eq!(
        (res.status, res.code()),
        (StatusCode::CONFLICT, "import_plan_changed")
    );
    assert_eq!(
        app.scalar(
            "SELECT COUNT(*) FROM patients WHERE clinic_id = $1",
            s.clinic.as_str()
        )
        .await,
        2
    );
}

#[tokio::test]
async fn a_dry_run_with_a_key_is_not_kept_for_replay_since_it_names_patients() {
    let app = app().await;
    let s = app.clinic("sakura").await;
    let admin = app.token(&s.clinic, &[TokenScope::Admin]).await;
    let res = import_keyed(&app, &admin, "", BAD.as_bytes(), Some("plan-1")).await;
    assert_eq!(res.status, StatusCode::OK);
    let kept: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM idempotency_keys")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(kept, 0);
    let again = import_keyed(&app, &admin, "", BAD.as_bytes(), Some("plan-1")).await;
    assert_eq!(again.status, StatusCode::OK);
    assert!(again.headers.get("idempotent-replayed").is_none());
}
