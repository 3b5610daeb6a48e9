//! `/api/v1/automation/sources`: inflow sources written, read with their link and numbers,
//! counted per day, exported as CSV; refusals change nothing; another clinic's are not found.
use axum::http::{Method, StatusCode};
use serde_json::{json, Value};
use tsunagu_core::{ClinicId, TokenScope};

use super::support::{app, App, Res, T0};

const URL: &str = "/api/v1/automation/sources";
const DAY: i64 = 24 * 60 * 60 * 1000;

async fn call(app: &App, m: Method, path: &str, token: &str, body: Option<Value>) -> Res {
    app.call(m, path, Some(token), body.as_ref(), &[]).await
}

/// A message carrying the source's code from `patient` at `at` (as dispatch records it).
async fn scan(app: &App, clinic: &ClinicId, source: &str, patient: &str, message: &str, at: i64) {
    use tsunagu_automation::sources;
    let mut conn = app.db.pool().acquire().await.unwrap();
    let s = sources::get(&mut conn, clinic, source)
        .await
        .unwrap()
        .unwrap();
    assert!(
        sources::record_scan(&mut conn, clinic, &s, patient, message, at)
            .await
            .unwrap()
    );
}

#[tokio::test]
async fn a_source_is_made_counted_exported_renamed_and_removed() {
    let app = app().await;
    let a = app.clinic("sakura").await;
    let admin = app.token(&a.clinic, &[TokenScope::Admin]).await;
    let read = app.token(&a.clinic, &[TokenScope::Read]).await;
    let body = json!({"channel_id": a.channel.as_str(), "name": "待合室ポスター"});

    assert_eq!(
        app.post(URL, &read, body.clone()).await.status,
        StatusCode::FORBIDDEN
    );
    for (bad, status, code) in [
        (
            json!({"channel_id": a.channel.as_str(), "name": " "}),
            422,
            "invalid_inflow_source",
        ),
        (
            json!({"channel_id": "nope", "name": "受付"}),
            404,
            "not_found",
        ),
    ] {
        let res = app.post(URL, &admin, bad).await;
        assert_eq!(
            (res.status.as_u16(), res.code()),
            (status, code),
            "{}",
            res.body
        );
    }
    let made = app.post(URL, &admin, body).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    assert_eq!(made.body["tag"], "流入:待合室ポスター");
    assert!(made.body["code"].as_str().unwrap().starts_with("S-"));
    assert_eq!(
        made.body["link"],
        Value::Null,
        "no address on the channel yet"
    );
    let id = made.body["id"].as_str().unwrap().to_string();
    let one = format!("{URL}/{id}");
    assert_eq!(
        app.get(&format!("{one}/qr.svg"), &read).await.status,
        StatusCode::NOT_FOUND
    );

    {
        let mut conn = app.db.pool().acquire().await.unwrap();
        let ch = a.channel.as_str();
        tsunagu_automation::sources::set_address(&mut conn, &a.clinic, ch, "@sakura", T0)
            .await
            .unwrap();
    }
    let got = app.get(&one, &read).await;
    let link = got.body["link"].as_str().unwrap();
    assert!(
        link.starts_with("https://line.me/R/oaMessage/%40sakura/?"),
        "{link}"
    );
    let qr = app
        .get(got.body["qr_svg_url"].as_str().unwrap(), &read)
        .await;
    assert_eq!(qr.status, StatusCode::OK);
    assert!(String::from_utf8_lossy(&qr.bytes).starts_with("<svg"));

    let c = app.conversation(&a, "U1", "こんにちは", T0).await;
    scan(&app, &a.clinic, &id, &c.patient_id, "m1", T0).await;
    scan(&app, &a.clinic, &id, &c.patient_id, "m2", T0 + DAY).await;
    let listed = app.get(URL, &read).await;
    assert_eq!(
        (
            &listed.body["items"][0]["added"],
            &listed.body["items"][0]["messages"]
        ),
        (&json!(1), &json!(2))
    );

    // T0 is 2026-01-01 09:00 in Tokyo.
    let counts = app
        .get(
            &format!("{one}/counts?from=2025-12-31&to=2026-01-02"),
            &read,
        )
        .await;
    assert_eq!(counts.status, StatusCode::OK, "{}", counts.body);
    assert_eq!(
        counts.body["items"],
        json!([
            {"date": "2025-12-31", "added": 0, "messages": 0},
            {"date": "2026-01-01", "added": 1, "messages": 1},
            {"date": "2026-01-02", "added": 0, "messages": 1},
        ])
    );
    for bad in [
        "from=2026-01-02&to=2026-01-01",
        "from=2024-01-01&to=2026-01-01",
        "to=1/2",
    ] {
        let res = app.get(&format!("{one}/counts?{bad}"), &read).await;
        assert_eq!(res.code(), "invalid_date_range", "{bad}");
    }
    let csv = app
        .get(
            &format!("{URL}/export.csv?from=2026-01-02&to=2026-01-02"),
            &read,
        )
        .await;
    assert_eq!(csv.status, StatusCode::OK);
    assert_eq!(csv.headers["content-type"], "text/csv; charset=utf-8");
    let text = String::from_utf8(csv.bytes.clone()).unwrap();
    let code = made.body["code"].as_str().unwrap();
    assert_eq!(
        text,
        format!("\u{FEFF}日付,流入経路,コード,登録した患者さん,メッセージ数\r\n2026-01-02,\"待合室ポスター\",{code},0,1\r\n")
    );

    let res = call(&app, Method::PATCH, &one, &admin, Some(json!({"name": ""}))).await;
    assert_eq!(res.code(), "invalid_inflow_source");
    let renamed = call(
        &app,
        Method::PATCH,
        &one,
        &admin,
        Some(json!({"name": "受付", "tag": "受付から"})),
    )
    .await;
    assert_eq!(renamed.status, StatusCode::OK, "{}", renamed.body);
    assert_eq!(
        (&renamed.body["name"], &renamed.body["tag"]),
        (&json!("受付"), &json!("受付から"))
    );
    assert_eq!(
        renamed.body["code"], made.body["code"],
        "printed codes stay valid"
    );

    let gone = call(&app, Method::DELETE, &one, &admin, None).await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT);
    assert_eq!(app.get(&one, &read).await.status, StatusCode::NOT_FOUND);
    let scans = "SELECT COUNT(*) FROM inflow_scans WHERE source_id = $1";
    assert_eq!(app.scalar(scans, &id).await, 0);
    for action in ["create", "update", "delete"] {
        let action = format!("api.automation.source.{action}");
        assert_eq!(app.audits(&action).await.len(), 1, "{action}");
    }
}

#[tokio::test]
async fn another_clinics_source_or_channel_is_not_found_and_a_key_creates_once() {
    let app = app().await;
    let a = app.clinic("sakura").await;
    let b = app.clinic("other").await;
    let admin = app.token(&a.clinic, &[TokenScope::Admin]).await;
    let theirs = app.token(&b.clinic, &[TokenScope::Admin]).await;
    let made = app
        .post(
            URL,
            &theirs,
            json!({"channel_id": b.channel.as_str(), "name": "B"}),
        )
        .await;
    let b_one = format!("{URL}/{}", made.body["id"].as_str().unwrap());
    for (m, path, body) in [
        (Method::GET, b_one.clone(), None),
        (Method::GET, format!("{b_one}/counts"), None),
        (Method::GET, format!("{b_one}/qr.svg"), None),
        (
            Method::PATCH,
            b_one.clone(),
            Some(json!({"name": "乗っ取り"})),
        ),
        (Method::DELETE, b_one.clone(), None),
    ] {
        let res = call(&app, m.clone(), &path, &admin, body).await;
        assert_eq!(res.status, StatusCode::NOT_FOUND, "{m} {path}");
    }
    assert_eq!(app.get(&b_one, &theirs).await.body["name"], "B");
    let on_b = json!({"channel_id": b.channel.as_str(), "name": "乗っ取り"});
    assert_eq!(
        app.post(URL, &admin, on_b).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(app.get(URL, &admin).await.body["items"], json!([]));
    let csv = app.get(&format!("{URL}/export.csv"), &admin).await;
    assert!(!String::from_utf8_lossy(&csv.bytes).contains("\"B\""));

    let key = [("idempotency-key", "source-create-1")];
    let body = json!({"channel_id": a.channel.as_str(), "name": "受付"});
    let first = app
        .call(Method::POST, URL, Some(&admin), Some(&body), &key)
        .await;
    let second = app
        .call(Method::POST, URL, Some(&admin), Some(&body), &key)
        .await;
    assert_eq!(first.body["id"], second.body["id"]);
    let count = "SELECT COUNT(*) FROM inflow_sources WHERE clinic_id = $1";
    assert_eq!(app.scalar(count, a.clinic.as_str()).await, 1);
}

#[tokio::test]
async fn a_sources_welcome_is_written_checked_and_cleared() {
    let app = app().await;
    let a = app.clinic("sakura").await;
    let admin = app.token(&a.clinic, &[TokenScope::Admin]).await;
    let ch = a.channel.as_str();
    // A flow id that is not a published flow of the clinic is refused and stores nothing.
    let bad = json!({"channel_id": ch, "name": "受付", "welcome_flow_id": "nope"});
    let res = app.post(URL, &admin, bad).await;
    assert_eq!(
        (res.status.as_u16(), res.code()),
        (422, "invalid_inflow_source")
    );
    let body = json!({"channel_id": ch, "name": "受付", "welcome_text": "ようこそ", "welcome_every": true});
    let made = app.post(URL, &admin, body).await;
    assert_eq!(made.status, StatusCode::CREATED, "{}", made.body);
    assert_eq!(
        (&made.body["welcome_text"], &made.body["welcome_every"]),
        (&json!("ようこそ"), &json!(true))
    );
    assert_eq!(made.body["welcome_flow_id"], Value::Null);
    let one = format!("{URL}/{}", made.body["id"].as_str().unwrap());
    let patch = json!({"welcome_text": "", "welcome_every": false});
    let res = call(&app, Method::PATCH, &one, &admin, Some(patch)).await;
    assert_eq!(res.status, StatusCode::OK, "{}", res.body);
    assert_eq!(
        (&res.body["welcome_text"], &res.body["welcome_every"]),
        (&json!(""), &json!(false))
    );
    assert_eq!(res.body["name"], "受付", "left-out fields stay");
    let long = json!({"welcome_text": "あ".repeat(501)});
    let res = call(&app, Method::PATCH, &one, &admin, Some(long)).await;
    assert_eq!(res.status.as_u16(), 422);
    let again = app.get(&one, &admin).await;
    assert_eq!(again.body["welcome_text"], "");
}

#[tokio::test]
async fn a_channel_s_address_and_line_login_are_set_over_the_api_and_checked() {
    let app = app().await;
    let a = app.clinic("sakura").await;
    let admin = app.token(&a.clinic, &[TokenScope::Admin]).await;
    let read = app.token(&a.clinic, &[TokenScope::Read]).await;
    let channels = format!("{URL}/channels");
    let listed = call(&app, Method::GET, &channels, &read, None).await;
    assert_eq!(listed.status, StatusCode::OK, "{}", listed.body);
    let line = &listed.body["items"][0];
    assert_eq!(
        (line["kind"].as_str(), line["address"].as_str()),
        (Some("line"), None)
    );
    assert!(line["line_login_channel_id"].is_null());

    let address = format!("{channels}/{}/address", a.channel.as_str());
    let forbidden = call(
        &app,
        Method::PUT,
        &address,
        &read,
        Some(json!({"address": "@sakura"})),
    );
    assert_eq!(forbidden.await.status, StatusCode::FORBIDDEN);
    let bad = call(
        &app,
        Method::PUT,
        &address,
        &admin,
        Some(json!({"address": "sakura"})),
    )
    .await;
    assert_eq!(
        (bad.status.as_u16(), bad.code()),
        (422, "invalid_source_address")
    );
    let ok = call(
        &app,
        Method::PUT,
        &address,
        &admin,
        Some(json!({"address": " @sakura "})),
    )
    .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    assert_eq!(ok.body["address"], "@sakura");

    let login = format!("{channels}/{}/line-login", a.channel.as_str());
    let secret = "0123456789abcdef0123456789abcdef";
    let bad = json!({"login_channel_id": "abc", "login_channel_secret": secret});
    let bad = call(&app, Method::PUT, &login, &admin, Some(bad)).await;
    assert_eq!(
        (bad.status.as_u16(), bad.code()),
        (422, "invalid_line_login")
    );
    let good = json!({"login_channel_id": "1660000000", "login_channel_secret": secret});
    let linked = call(&app, Method::PUT, &login, &admin, Some(good)).await;
    assert_eq!(linked.status, StatusCode::OK, "{}", linked.body);
    assert_eq!(linked.body["line_login_channel_id"], "1660000000");
    assert!(
        !linked.body.to_string().contains(secret),
        "the secret is never shown"
    );
    let stored: String = sqlx::query_scalar("SELECT secret_enc FROM line_login_links")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert!(!stored.contains(secret), "stored encrypted");

    let unlink = call(&app, Method::DELETE, &login, &admin, None).await;
    assert_eq!(unlink.status, StatusCode::NO_CONTENT);
    let again = call(&app, Method::DELETE, &login, &admin, None).await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
    let audited: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM audit_events WHERE action LIKE 'api.automation.source.%'",
    )
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    assert_eq!(audited, 3, "address, link, unlink");
}
