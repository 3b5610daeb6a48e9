//! The app of `tsunagu_testkit::app` (the real router over a fresh database, in process), and a
//! tiny browser: a cookie jar that follows Set-Cookie, forms posted as
//! `application/x-www-form-urlencoded`.
#![allow(dead_code)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::ops::Deref;

use axum::http::{header, HeaderMap, Method, StatusCode};
use tsunagu_accounts::{staff, totp};
use tsunagu_core::config::Settings;
use tsunagu_core::{ClinicId, Clock, Role, StaffId};
use tsunagu_store::{clinics, Db};
use tsunagu_testkit::app::Response;
use tsunagu_testkit::TestApp;

/// 2026-01-05T00:00:00Z
pub const T0: i64 = 1_767_571_200_000;
pub const PASSWORD: &str = "correct horse battery";

pub struct App {
    pub app: TestApp,
    pub clinic: ClinicId,
}

impl Deref for App {
    type Target = TestApp;
    fn deref(&self) -> &TestApp {
        &self.app
    }
}

/// A clinic "sakura" (ja, Asia/Tokyo) with or without the 2FA requirement.
pub async fn app(require_2fa: bool) -> App {
    app_with(Settings::default(), require_2fa).await
}

pub async fn app_with(settings: Settings, require_2fa: bool) -> App {
    let app = TestApp::builder()
        .settings(|s| *s = settings)
        .clock_ms(T0)
        .local_live_events()
        .start()
        .await;
    let clinic = clinic(&app.db, "sakura", "さくら内科", require_2fa).await;
    App { app, clinic }
}

pub async fn clinic(db: &Db, slug: &str, name: &str, require_2fa: bool) -> ClinicId {
    let mut tx = db.begin().await.unwrap();
    let org = match clinics::organization_by_name(tx.conn(), "医療法人テスト会")
        .await
        .unwrap()
    {
        Some(o) => o,
        None => clinics::create_organization(tx.conn(), "医療法人テスト会", T0)
            .await
            .unwrap(),
    };
    let c = clinics::NewClinic {
        organization_id: &org,
        slug,
        name,
        timezone: "Asia/Tokyo",
        locale: "ja",
    };
    let id = clinics::create_clinic(tx.conn(), c, T0).await.unwrap();
    clinics::set_require_2fa(tx.conn(), &id, require_2fa)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    id
}

pub struct Res {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl From<Response> for Res {
    fn from(r: Response) -> Self {
        Res {
            body: r.text(),
            status: r.status,
            headers: r.headers,
        }
    }
}

impl Res {
    pub fn location(&self) -> &str {
        self.headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }
    pub fn set_cookies(&self) -> Vec<String> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok().map(String::from))
            .collect()
    }
    pub fn session_cookie(&self) -> Option<String> {
        self.set_cookies()
            .into_iter()
            .find(|c| c.starts_with("tsunagu_session=") && !c.starts_with("tsunagu_session=;"))
    }
    /// The value of the first hidden `csrf_token` field.
    pub fn csrf(&self) -> String {
        between(&self.body, "name=\"csrf_token\" value=\"", "\"").unwrap_or_default()
    }
}

pub fn between(s: &str, start: &str, end: &str) -> Option<String> {
    let from = s.find(start)? + start.len();
    let len = s[from..].find(end)?;
    Some(s[from..from + len].to_string())
}

/// One browser: its cookies and, optionally, the address it connects from.
#[derive(Default, Clone)]
pub struct Browser {
    pub cookies: HashMap<String, String>,
    pub ip: Option<SocketAddr>,
    pub accept_language: Option<String>,
}

impl Browser {
    pub fn from_ip(ip: &str) -> Self {
        Browser {
            ip: Some(format!("{ip}:50000").parse().unwrap()),
            ..Default::default()
        }
    }
    fn absorb(&mut self, res: &Res) {
        for c in res.set_cookies() {
            let pair = c.split(';').next().unwrap_or("");
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let removal = c.contains("Max-Age=0") || value.is_empty();
            if removal {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_string(), value.to_string());
            }
        }
    }
    pub fn session(&self) -> Option<&String> {
        self.cookies.get("tsunagu_session")
    }
    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

impl App {
    pub async fn send(
        &self,
        b: &mut Browser,
        method: Method,
        path: &str,
        form: Option<&[(&str, &str)]>,
        extra: &[(&str, &str)],
    ) -> Res {
        let mut call = self.request(method, path).peer(b.ip);
        if !b.cookies.is_empty() {
            call = call.header(header::COOKIE.as_str(), b.cookie_header());
        }
        if let Some(l) = &b.accept_language {
            call = call.header(header::ACCEPT_LANGUAGE.as_str(), l);
        }
        for (k, v) in extra {
            call = call.header(k, v);
        }
        if let Some(f) = form {
            call = call.form(f);
        }
        let res: Res = call.send().await.into();
        b.absorb(&res);
        res
    }

    /// A GET whose body is never read (the SSE stream does not end).
    pub async fn status_of_stream(&self, b: &Browser, path: &str) -> StatusCode {
        let req = axum::http::Request::builder()
            .uri(path)
            .header(header::COOKIE, b.cookie_header())
            .body(axum::body::Body::empty())
            .unwrap();
        tower::ServiceExt::oneshot(self.router.clone(), req)
            .await
            .unwrap()
            .status()
    }

    pub async fn get(&self, b: &mut Browser, path: &str) -> Res {
        self.send(b, Method::GET, path, None, &[]).await
    }

    pub async fn post(&self, b: &mut Browser, path: &str, form: &[(&str, &str)]) -> Res {
        self.send(b, Method::POST, path, Some(form), &[]).await
    }

    /// A staff member with `PASSWORD` and `role` in the test clinic.
    pub async fn staff(&self, email: &str, role: Role) -> StaffId {
        staff::add_user(&self.db, "sakura", email, role, Some(PASSWORD), T0)
            .await
            .unwrap()
            .staff_id
    }

    /// GET the form, POST e-mail and password. Returns the POST's response.
    pub async fn password_step(&self, b: &mut Browser, email: &str, password: &str) -> Res {
        let form = self.get(b, "/login").await;
        assert_eq!(form.status, StatusCode::OK, "{}", form.body);
        let csrf = form.csrf();
        self.post(
            b,
            "/login",
            &[
                ("csrf_token", &csrf),
                ("email", email),
                ("password", password),
            ],
        )
        .await
    }

    /// Signs in where no second factor is needed.
    pub async fn sign_in(&self, b: &mut Browser, email: &str) {
        let res = self.password_step(b, email, PASSWORD).await;
        assert_eq!(
            (res.status, res.location()),
            (StatusCode::SEE_OTHER, "/app"),
            "{}",
            res.body
        );
    }

    /// Enrols TOTP for a half-signed-in browser; returns the seed and the recovery codes.
    pub async fn enrol(&self, b: &mut Browser) -> (Vec<u8>, Vec<String>) {
        let page = self.get(b, "/login/2fa/setup").await;
        assert_eq!(page.status, StatusCode::OK, "{}", page.body);
        // (minijinja escapes "/" as &#x2f; inside the attribute; the browser reads it back.)
        assert!(
            page.body
                .replace("&#x2f;", "/")
                .contains("src=\"data:image/png;base64,"),
            "{}",
            page.body
        );
        let b32 = between(&page.body, "data-testid=\"totp-secret\">", "<").unwrap();
        let secret = totp_rs::Secret::Encoded(b32).to_bytes().unwrap();
        let code = totp::code_at(&secret, self.clock.now_ms()).unwrap();
        let res = self
            .post(
                b,
                "/login/2fa/setup",
                &[("csrf_token", &page.csrf()), ("code", &code)],
            )
            .await;
        assert_eq!(res.status, StatusCode::OK, "{}", res.body);
        let list = between(&res.body, "data-testid=\"recovery-codes\">", "</ul>").unwrap();
        let codes = list
            .split("<code>")
            .skip(1)
            .filter_map(|c| c.split("</code>").next())
            .map(String::from)
            .collect();
        (secret, codes)
    }

    pub async fn count(&self, sql: &str) -> i64 {
        sqlx::query_scalar(sql)
            .fetch_one(self.db.pool())
            .await
            .unwrap()
    }

    /// Actions in the trail, oldest first.
    pub async fn actions(&self) -> Vec<String> {
        sqlx::query_scalar("SELECT action FROM audit_events ORDER BY seq")
            .fetch_all(self.db.pool())
            .await
            .unwrap()
    }
}
