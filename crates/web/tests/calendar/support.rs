//! The app of `tsunagu_testkit::app` (the real router over a fresh database, in process) with
//! the clock at Saturday 2027-01-09 13:00 in Tokyo (the Monday after is 成人の日), API tokens
//! and signed-in staff.
#![allow(dead_code)]

use std::ops::Deref;

use axum::http::{Method, StatusCode};
use serde_json::Value;
use tsunagu_accounts::tokens;
use tsunagu_core::{ClinicId, Role, TokenScope};
use tsunagu_store::clinics;
use tsunagu_testkit::app::Response;
use tsunagu_testkit::TestApp;

/// A signed-in staff member: the cookie token and the form token.
pub use tsunagu_testkit::app::StaffSession as Session;

/// 2027-01-09T04:00:00Z: Saturday 13:00 in Tokyo, after the Saturday morning hours.
pub const T0: i64 = 1_799_467_200_000;
pub const CLIENT_IP: &str = "203.0.113.11";

pub struct App {
    pub app: TestApp,
}

impl Deref for App {
    type Target = TestApp;
    fn deref(&self) -> &TestApp {
        &self.app
    }
}

pub async fn app() -> App {
    let app = TestApp::builder()
        .clock_ms(T0)
        .client_ip(CLIENT_IP)
        .local_live_events()
        .start()
        .await;
    App { app }
}

pub struct Res {
    pub status: StatusCode,
    pub location: String,
    pub text: String,
    pub body: Value,
}

impl From<Response> for Res {
    fn from(r: Response) -> Self {
        Res {
            location: r.location().to_string(),
            text: r.text(),
            body: r.json(),
            status: r.status,
        }
    }
}

impl Res {
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }
}

impl App {
    /// An API call with a bearer token and an optional JSON body.
    pub async fn api(&self, method: Method, path: &str, token: &str, body: Option<Value>) -> Res {
        let mut call = self.request(method, path).bearer(token);
        if let Some(v) = &body {
            call = call.json(v);
        }
        call.send().await.into()
    }

    pub async fn page(&self, path: &str, s: &Session) -> Res {
        self.request(Method::GET, path)
            .session(s)
            .send()
            .await
            .into()
    }

    /// A form post carrying the session's CSRF token.
    pub async fn form(&self, path: &str, s: &Session, fields: &[(&str, &str)]) -> Res {
        let mut all = vec![("csrf_token", s.csrf.as_str())];
        all.extend_from_slice(fields);
        self.request(Method::POST, path)
            .session(s)
            .form(&all)
            .send()
            .await
            .into()
    }

    /// A Japanese clinic in Tokyo.
    pub async fn clinic(&self, slug: &str) -> ClinicId {
        let mut tx = self.db.begin().await.unwrap();
        let org = clinics::create_organization(tx.conn(), &format!("医療法人 {slug}"), T0)
            .await
            .unwrap();
        let c = clinics::NewClinic {
            organization_id: &org,
            slug,
            name: "さくら内科",
            timezone: "Asia/Tokyo",
            locale: "ja-JP",
        };
        let id = clinics::create_clinic(tx.conn(), c, T0).await.unwrap();
        tx.commit().await.unwrap();
        id
    }

    pub async fn token(&self, clinic: &ClinicId, scopes: &[TokenScope]) -> String {
        let mut tx = self.db.begin().await.unwrap();
        let (_, plaintext) = tokens::create_token(tx.conn(), clinic, "test", scopes, T0)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        plaintext
    }

    /// A staff member with `role` in the clinic, signed in with both factors.
    pub async fn sign_in(&self, clinic: &ClinicId, role: Role) -> Session {
        self.staff_session(clinic, role, "スタッフ").await
    }

    /// How many audit rows have this action.
    pub async fn audits(&self, action: &str) -> i64 {
        sqlx::query_scalar("SELECT COUNT(*) FROM audit_events WHERE action = $1")
            .bind(action)
            .fetch_one(self.db.pool())
            .await
            .unwrap()
    }

    pub async fn closures(&self, clinic: &ClinicId) -> i64 {
        sqlx::query_scalar("SELECT COUNT(*) FROM calendar_closures WHERE clinic_id = $1")
            .bind(clinic.as_str())
            .fetch_one(self.db.pool())
            .await
            .unwrap()
    }
}
