//! In-process requests to the real router (`tower::ServiceExt::oneshot`), built up as a test
//! needs them — bearer token, staff session cookie, JSON or form body, client address — and
//! the response read whole.
use std::net::SocketAddr;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, request, HeaderMap, Method, Request, StatusCode};
use axum::Router;
use http_body_util::BodyExt;
use serde_json::Value;
use tower::ServiceExt;

use super::{StaffSession, TestApp};

/// One request on its way to the router: `app.request(Method::POST, path).json(&v).send()`.
pub struct Call<'a> {
    app: &'a TestApp,
    req: request::Builder,
    body: Body,
    peer: Option<SocketAddr>,
}

impl<'a> Call<'a> {
    pub(crate) fn new(app: &'a TestApp, method: Method, path: &str) -> Self {
        Call {
            app,
            req: Request::builder().method(method).uri(path),
            body: Body::empty(),
            peer: app.peer,
        }
    }

    pub fn header(mut self, name: &str, value: impl AsRef<str>) -> Self {
        self.req = self.req.header(name, value.as_ref());
        self
    }

    /// `Authorization: Bearer <token>`.
    pub fn bearer(self, token: &str) -> Self {
        self.header("authorization", format!("Bearer {token}"))
    }

    /// The staff member's session cookie (the CSRF token is the caller's to send).
    pub fn session(self, s: &StaffSession) -> Self {
        self.header("cookie", format!("tsunagu_session={}", s.cookie))
    }

    /// A JSON body.
    pub fn json(mut self, v: &Value) -> Self {
        self.req = self.req.header(header::CONTENT_TYPE, "application/json");
        self.body = Body::from(v.to_string());
        self
    }

    /// An `application/x-www-form-urlencoded` body, as a browser posts a form.
    pub fn form<T: serde::Serialize + ?Sized>(mut self, fields: &T) -> Self {
        self.req = self
            .req
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
        self.body = Body::from(serde_urlencoded::to_string(fields).unwrap());
        self
    }

    /// A body as given; its content type is set with [`Call::header`].
    pub fn body(mut self, bytes: impl Into<Vec<u8>>) -> Self {
        self.body = Body::from(bytes.into());
        self
    }

    /// The client's address as the server sees it (`None`: no address at all).
    pub fn peer(mut self, peer: Option<SocketAddr>) -> Self {
        self.peer = peer;
        self
    }

    pub async fn send(self) -> Response {
        let mut req = self.req.body(self.body).unwrap();
        if let Some(peer) = self.peer {
            req.extensions_mut().insert(ConnectInfo(peer));
        }
        oneshot(&self.app.router, req).await
    }
}

/// A response read whole.
pub struct Response {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub bytes: Vec<u8>,
}

impl Response {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.bytes).into_owned()
    }

    /// The body as JSON; `Null` when it is not JSON.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.bytes).unwrap_or(Value::Null)
    }

    /// A header's value, `""` when absent or not text.
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
    }

    pub fn location(&self) -> &str {
        self.header("location")
    }

    pub fn set_cookies(&self) -> Vec<String> {
        self.headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok().map(String::from))
            .collect()
    }
}

pub(crate) async fn oneshot(router: &Router, req: Request<Body>) -> Response {
    let res = router.clone().oneshot(req).await.unwrap();
    let status = res.status();
    let headers = res.headers().clone();
    let bytes = res.into_body().collect().await.unwrap().to_bytes().to_vec();
    Response {
        status,
        headers,
        bytes,
    }
}
