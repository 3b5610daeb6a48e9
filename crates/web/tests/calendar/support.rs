//! A real router over a fresh database with the clock at Saturday 2027-01-09 13:00 in Tokyo
//! (the Monday after is 成人の日), API tokens and signed-in staff.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Method, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;
use tsunagu_accounts::{sessions, staff, tokens};
use tsunagu_core::config::Settings;
use tsunagu_core::{ClinicId, FakeClock, Role, TokenScope};
use tsunagu_inbox::live::LiveHub;
use tsunagu_privacy::Cipher;
use tsunagu_store::{clinics, Db};
use tsunagu_testkit::{test_db, TestDb};
use tsunagu_web::AppState;

/// 2027-01-09T04:00:00Z: Saturday 13:00 in Tokyo, after the Saturday morning hours.
pub const T0: i64 = 1_799_467_200_000;
pub const CLIENT_IP: &str = "203.0.113.11";

pub struct App {
    pub router: Router,
    pub db: Db,
    pub clock: FakeClock,
    _t: TestDb,
}

pub async fn app() -> App {
    let t = test_db().await;
    let clock = FakeClock::new(tsunagu_core::clock::from_ms(T0));
    let state = AppState::new(
        t.db.clone(),
        Arc::new(Settings::default()),
        Arc::new(clock.clone()),
        Cipher::new(&[7; 32]),
        LiveHub::new(),
    );
    App {
        router: tsunagu_web::router(state),
        db: t.db.clone(),
        clock,
        _t: t,
    }
}

/// A signed-in staff member: the cookie token and the form token.
pub struct Session {
    pub cookie: String,
    pub csrf: String,
}

pub struct Res {
    pub status: StatusCode,
    pub location: String,
    pub text: String,
    pub body: Value,
}

impl Res {
    pub fn code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }
}

impl App {
    async fn send(&self, mut req: Request<Body>) -> Res {
        let peer: SocketAddr = format!("{CLIENT_IP}:40000").parse().unwrap();
        req.extensions_mut().insert(ConnectInfo(peer));
        let res = self.router.clone().oneshot(req).await.unwrap();
        let status = res.status();
        let location = res
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let bytes = res.into_body().collect().await.unwrap().to_bytes();
        Res {
            status,
            location,
            text: String::from_utf8_lossy(&bytes).into_owned(),
            body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        }
    }

    /// An API call with a bearer token and an optional JSON body.
    pub async fn api(&self, method: Method, path: &str, token: &str, body: Option<Value>) -> Res {
        let mut b = Request::builder()
            .method(method)
            .uri(path)
            .header("authorization", format!("Bearer {token}"));
        if body.is_some() {
            b = b.header("content-type", "application/json");
        }
        let body = body
            .map(|v| Body::from(v.to_string()))
            .unwrap_or_else(Body::empty);
        self.send(b.body(body).unwrap()).await
    }

    pub async fn page(&self, path: &str, s: &Session) -> Res {
        let req = Request::builder()
            .uri(path)
            .header("cookie", format!("tsunagu_session={}", s.cookie))
            .body(Body::empty())
            .unwrap();
        self.send(req).await
    }

    /// A form post carrying the session's CSRF token.
    pub async fn form(&self, path: &str, s: &Session, fields: &[(&str, &str)]) -> Res {
        let mut all = vec![("csrf_token", s.csrf.as_str())];
        all.extend_from_slice(fields);
        let req = Request::builder()
            .method(Method::POST)
            .uri(path)
            .header("cookie", format!("tsunagu_session={}", s.cookie))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(serde_urlencoded::to_string(&all).unwrap()))
            .unwrap();
        self.send(req).await
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
        let mut tx = self.db.begin().await.unwrap();
        let email = format!("{}@example.jp", uuid::Uuid::now_v7());
        let id = staff::create(tx.conn(), &email, "スタッフ", "$argon2id$unused", T0)
            .await
            .unwrap();
        staff::add_membership(tx.conn(), &id, clinic, role, T0)
            .await
            .unwrap();
        let s = sessions::create(tx.conn(), &id, Some(clinic), true, Some(CLIENT_IP), T0)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        Session {
            cookie: s.token,
            csrf: s.csrf_token,
        }
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
