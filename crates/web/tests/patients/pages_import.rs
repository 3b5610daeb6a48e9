use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use tsunagu_core::Role;

use super::ui_support::{App, Res, Session, CLIENT_IP};

const BOUNDARY: &str = "tsunagu-test-boundary";

/// A `multipart/form-data` post, as a browser sends the upload form.
async fn post_multipart(app: &App, s: &Session, parts: &[(&str, &[u8])]) -> Res {
    let mut body = Vec::new();
    for (name, data) in parts {
        body.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
        let disposition = if *name == "file" {
            "Content-Disposition: form-data; name=\"file\"; filename=\"patients.csv\"\r\nContent-Type: text/csv\r\n".to_string()
        } else {
            format!("Content-Disposition: form-data; name=\"{name}\"\r\n")
        };
        body.extend_from_slice(disposition.as_bytes());
        body.extend_from_slice(b"\r\n");
        body.extend_from_slice(data);
        body.extend_from_slice(b"\r\n");
    }
    body.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
    let mut req = Request::builder()
        .method(Method::POST)
        .uri("/app/patients/import")
        .header("cookie", format!("tsunagu_session={}", s.cookie))
        .header(
            "content-type",
            format!("multipart/form-data; boundary={BOUNDARY}"),
        )
        .body(Body::from(body))
        .unwrap();
    let peer: std::net::SocketAddr = format!("{CLIENT_IP}:40000").parse().unwrap();
    req.extensions_mut()
        .insert(axum::extract::ConnectInfo(peer));
    app.send(req).await
}

/// The value of the hidden input `name` in the page.
fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker).unwrap() + marker.len();
    html[start..]
        .split('"')
        .next()
        .unwrap()
        .replace("&#x2f;", "/")
        .replace("&#x3d;", "=")
        .replace("&#x2b;", "+")
}

#[tokio::test]
async fn an_upload_with_bad_rows_shows_every_error_and_no_confirm_button() {
    let app = super::ui_support::app().await;
    let s = app.clinic("sakura", "さくら内科").await;
    let admin = app.sign_in(&s.clinic, Role::Admin, "院長").await;
    let csv = "氏名,生年月日,電話番号,診察券番号\n山田,S50.4.1,090-1234-5678,001\n佐藤,1990-02-30,03-1234-5678,002\n鈴木,,0120-12,001\n";
    let res = post_multipart(
        &app,
        &admin,
        &[
            ("csrf_token", admin.csrf.as_bytes()),
            ("file", csv.as_bytes()),
        ],
    )
    .await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(res.text.matches("data-testid=\"import-row\"").count(), 3);
    assert_eq!(res.text.matches("data-testid=\"import-error\"").count(), 3);
    assert!(
        res.text.contains("生年月日の")
            || res.text.contains("生年月日: 生年月日が正しくありません")
    );
    assert!(res.text.contains("import-blocked"));
    assert!(
        !res.text.contains("import-apply"),
        "no confirm button while errors remain"
    );
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM patients WHERE clinic_id = $1",
            s.clinic.as_str()
        )
        .await,
        0
    );

    let forged = post_multipart(
        &app,
        &admin,
        &[("csrf_token", b"wrong"), ("file", csv.as_bytes())],
    )
    .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn a_clean_upload_is_confirmed_and_imported() {
    let app = super::ui_support::app().await;
    let s = app.clinic("sakura", "さくら内科").await;
    let admin = app.sign_in(&s.clinic, Role::Owner, "院長").await;
    let (sjis, _, _) = encoding_rs::SHIFT_JIS.encode("氏名,フリガナ,診察券番号\r\n山田 太郎,ヤマダ タロウ,001\r\n佐藤 花子,サトウ ハナコ,002\r\n");
    let res = post_multipart(
        &app,
        &admin,
        &[("csrf_token", admin.csrf.as_bytes()), ("file", &sjis)],
    )
    .await;
    assert!(res.text.contains("import-apply"), "{}", res.text);
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM patients WHERE clinic_id = $1",
            s.clinic.as_str()
        )
        .await,
        0
    );
    let (token, csv) = (hidden(&res.text, "plan_token"), hidden(&res.text, "csv"));
    let parts: [(&str, &[u8]); 3] = [
        ("csrf_token", admin.csrf.as_bytes()),
        ("plan_token", token.as_bytes()),
        ("csv", csv.as_bytes()),
    ];
    let done = post_multipart(&app, &admin, &parts).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.text);
    let page = app.get(done.location(), &admin).await;
    assert!(page.text.contains("新規 2 件"), "{}", page.text);
    assert_eq!(
        app.count(
            "SELECT COUNT(*) FROM patients WHERE clinic_id = $1",
            s.clinic.as_str()
        )
        .await,
        2
    );
    assert_eq!(app.audits("patient.import").await.len(), 1);
}

#[tokio::test]
async fn only_owners_and_admins_import() {
    let app = super::ui_support::app().await;
    let s = app.clinic("sakura", "さくら内科").await;
    let me = app.sign_in(&s.clinic, Role::Receptionist, "受付").await;
    assert_eq!(
        app.get("/app/patients/import", &me).await.status,
        StatusCode::FORBIDDEN
    );
    let res = post_multipart(
        &app,
        &me,
        &[("csrf_token", me.csrf.as_bytes()), ("file", b"name\nx\n")],
    )
    .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    assert_eq!(
        app.get("/app/settings/fields", &me).await.status,
        StatusCode::FORBIDDEN
    );
}
