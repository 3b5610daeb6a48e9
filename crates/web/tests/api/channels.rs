//! Connecting channels: validation, encryption at rest, the webhook URL.
use axum::http::StatusCode;
use serde_json::{json, Value};
use tsunagu_core::config::Settings;
use tsunagu_core::TokenScope;
use tsunagu_privacy::Cipher;

use super::support::{app, app_with, test_settings, App, KEY};

const SECRET: &str = "8c570fa6dd201bb328f1c1eac23a96d8";
const ACCESS: &str = "Jq3PGhZ9Ek0oVvEXAMPLEaccessTOKEN+/=";

fn line(extra: Value) -> Value {
    let mut v = json!({
        "kind": "line",
        "name": "さくら内科 LINE",
        "credentials": {"channel_secret": SECRET, "channel_access_token": ACCESS},
    });
    if let (Some(o), Some(e)) = (v.as_object_mut(), extra.as_object()) {
        o.extend(e.clone());
    }
    v
}

async fn admin() -> (App, String) {
    admin_of(app().await).await
}

async fn admin_of(app: App) -> (App, String) {
    let s = app.clinic("sakura").await;
    let token = app.token(&s.clinic, &[TokenScope::Admin]).await;
    (app, token)
}

#[tokio::test]
async fn a_line_channel_is_connected_with_encrypted_credentials_and_a_webhook_url() {
    let (app, token) = admin().await;
    let res = app.post("/api/v1/channels", &token, line(json!({}))).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    let id = res.body["id"].as_str().unwrap().to_string();
    let base = Settings::default().public_base();
    assert_eq!(
        res.body["webhook_url"],
        format!("{base}/webhooks/line/{id}")
    );
    assert_eq!(res.body["kind"], "line");
    assert_eq!(res.body["name"], "さくら内科 LINE");
    assert!(!String::from_utf8_lossy(&res.bytes).contains(SECRET));

    let (enc, api, data): (String, String, Option<String>) = sqlx::query_as(
        "SELECT credentials_enc, api_base_url, api_data_base_url FROM channels WHERE id = $1",
    )
    .bind(&id)
    .fetch_one(app.db.pool())
    .await
    .unwrap();
    assert!(
        !enc.contains(SECRET) && !enc.contains(ACCESS),
        "no plaintext secret in the database"
    );
    let creds = Cipher::new(&KEY).decrypt_json(&enc).unwrap();
    assert_eq!(creds["channel_secret"], SECRET);
    assert_eq!(creds["channel_access_token"], ACCESS);
    assert_eq!(api, "https://api.line.me");
    assert_eq!(data.as_deref(), Some("https://api-data.line.me"));
    let leaked: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM channels WHERE settings LIKE $1 OR name LIKE $1")
            .bind(format!("%{SECRET}%"))
            .fetch_one(app.db.pool())
            .await
            .unwrap();
    assert_eq!(leaked, 0);
    assert_eq!(app.audits("api.channel.create").await.len(), 1);

    let list = app.get("/api/v1/channels", &token).await;
    let item = list.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == id.as_str())
        .unwrap()
        .clone();
    let mut keys: Vec<_> = item.as_object().unwrap().keys().cloned().collect();
    keys.sort();
    assert_eq!(
        keys,
        [
            "api_base_url",
            "created_at",
            "id",
            "kind",
            "name",
            "webhook_url"
        ]
    );
    assert!(!String::from_utf8_lossy(&list.bytes).contains(SECRET));
}

#[tokio::test]
async fn sandbox_base_urls_are_kept() {
    let (app, token) = admin().await;
    let body = line(
        json!({"api_base_url": "http://127.0.0.1:9000/line/", "api_data_base_url": "http://127.0.0.1:9000/data"}),
    );
    let res = app.post("/api/v1/channels", &token, body).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    let api: String = app
        .scalar_text(
            "SELECT api_base_url FROM channels WHERE id = $1",
            &res.body["id"],
        )
        .await;
    assert_eq!(api, "http://127.0.0.1:9000/line");
}

#[tokio::test]
async fn bad_channels_are_refused_with_their_reasons() {
    let (app, token) = admin().await;
    let cases = [
        (json!({"kind": "email"}), "unsupported_channel_kind"),
        // A known kind with another kind's credentials.
        (json!({"kind": "whatsapp"}), "invalid_credentials"),
        (json!({"kind": "sms"}), "invalid_credentials"),
        (json!({"name": "  "}), "invalid_channel_name"),
        (json!({"credentials": null}), "invalid_credentials"),
        (
            json!({"credentials": {"channel_secret": "", "channel_access_token": "t"}}),
            "invalid_credentials",
        ),
        (
            json!({"credentials": {"channel_secret": "s"}}),
            "invalid_credentials",
        ),
        (
            json!({"api_base_url": "ftp://example.com"}),
            "invalid_base_url",
        ),
        (
            json!({"api_data_base_url": "javascript:alert(1)"}),
            "invalid_base_url",
        ),
    ];
    for (extra, code) in cases {
        let res = app
            .post("/api/v1/channels", &token, line(extra.clone()))
            .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{extra}");
        assert_eq!(res.code(), code, "{extra}");
    }
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM channels")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(n, 1, "only the seeded channel");
}

#[tokio::test]
async fn every_kind_connects_with_its_own_credentials() {
    let (app, token) = admin().await;
    let cases = [
        json!({"kind": "whatsapp", "name": "WhatsApp", "credentials": {"app_secret": "s", "verify_token": "v",
            "access_token": "t", "waba_id": "102290129340398",
            "phone_numbers": [{"phone_number_id": "106540352242922", "display_phone_number": "+81 3-1234-5678"}]}}),
        json!({"kind": "messenger", "name": "Facebook", "credentials": {"app_secret": "s", "verify_token": "v",
            "pages": [{"page_id": "1234567890", "name": "さくら内科", "access_token": "EAAB"}]}}),
        json!({"kind": "sms", "name": "SMS", "credentials": {"account_sid": "AC0123", "auth_token": "tok",
            "numbers": ["+15005550006"]}}),
    ];
    for body in cases {
        let kind = body["kind"].as_str().unwrap().to_string();
        let res = app.post("/api/v1/channels", &token, body).await;
        assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
        let url = res.body["webhook_url"].as_str().unwrap();
        assert!(url.contains(&format!("/webhooks/{kind}/")), "{url}");
        let (settings, enc): (String, String) =
            sqlx::query_as("SELECT settings, credentials_enc FROM channels WHERE id = $1")
                .bind(res.body["id"].as_str().unwrap())
                .fetch_one(app.db.pool())
                .await
                .unwrap();
        // Routing ids in clear; secrets only encrypted.
        for secret in [
            "app_secret",
            "auth_token",
            "access_token",
            "verify_token",
            "EAAB",
        ] {
            assert!(!settings.contains(secret), "{settings}");
        }
        assert!(!enc.contains("tok") && !enc.contains("EAAB"));
        assert!(
            settings.contains("106540352242922")
                || settings.contains("1234567890")
                || settings.contains("+15005550006")
        );
    }
    let list = app.get("/api/v1/channels", &token).await;
    let kinds: Vec<&str> = list.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["kind"].as_str().unwrap())
        .collect();
    for k in ["line", "whatsapp", "messenger", "sms"] {
        assert!(kinds.contains(&k), "{kinds:?}");
    }
}

impl App {
    async fn scalar_text(&self, sql: &str, id: &Value) -> String {
        sqlx::query_scalar(sql)
            .bind(id.as_str().unwrap())
            .fetch_one(self.db.pool())
            .await
            .unwrap()
    }
}

#[tokio::test]
async fn a_non_public_base_url_is_refused_and_nothing_is_stored() {
    // Production's rule: private addresses not allowed.
    let mut settings = test_settings();
    settings.outbound.allow_private_addresses = false;
    let (app, token) = admin_of(app_with(settings).await).await;
    // Saving never connects: a listener on the loopback port named below stays untouched.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let refused = [
        json!({"api_base_url": format!("http://127.0.0.1:{port}")}),
        json!({"api_base_url": format!("https://127.0.0.1:{port}/line")}),
        json!({"api_base_url": "https://10.0.0.8"}),
        json!({"api_base_url": "https://172.16.0.1"}),
        json!({"api_base_url": "https://192.168.1.20/line"}),
        json!({"api_base_url": "https://169.254.169.254/latest/meta-data"}),
        json!({"api_base_url": format!("https://[::1]:{port}")}),
        json!({"api_base_url": "https://[::ffff:127.0.0.1]"}),
        json!({"api_base_url": "https://[fe80::1]"}),
        json!({"api_base_url": "https://100.64.0.1"}),
        json!({"api_base_url": "https://0.0.0.0"}),
        json!({"api_base_url": format!("https://localhost:{port}")}),
        // Plain http, even to a public address.
        json!({"api_base_url": "http://93.184.216.34/line"}),
        json!({"api_data_base_url": "https://192.168.1.10/data"}),
    ];
    for extra in refused {
        let res = app
            .post("/api/v1/channels", &token, line(extra.clone()))
            .await;
        assert_eq!(res.status, StatusCode::UNPROCESSABLE_ENTITY, "{extra}");
        assert_eq!(res.code(), "outbound_address_refused", "{extra}");
        let message = res.body["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains("_url refused: "), "{message}");
    }
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM channels")
        .fetch_one(app.db.pool())
        .await
        .unwrap();
    assert_eq!(n, 1, "only the seeded channel");
    assert!(app.audits("api.channel.create").await.is_empty());
    let touched = tokio::time::timeout(std::time::Duration::from_millis(50), listener.accept());
    assert!(touched.await.is_err(), "saving a channel connected to it");

    // A public https address is stored (a literal: nothing is looked up or called), and the
    // provider's default needs no check.
    let public = line(json!({"api_base_url": "https://93.184.216.34/line"}));
    let res = app.post("/api/v1/channels", &token, public).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    let res = app.post("/api/v1/channels", &token, line(json!({}))).await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
}
