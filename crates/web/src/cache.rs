//! `Cache-Control: no-store` on every dynamic response: pages, exports, attachments and API
//! answers may carry patient data, which no browser or shared cache may keep. Only the static
//! assets (no patient data) keep their own caching.
use axum::extract::Request;
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;

pub async fn no_store(req: Request, next: Next) -> Response {
    let asset = req.uri().path().starts_with("/static/");
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    let stored = |v: &HeaderValue| {
        v.to_str()
            .map_or(true, |s| !s.split(',').any(|d| d.trim() == "no-store"))
    };
    // A handler's stricter value (`private, no-store`) stays; anything looser is replaced.
    if !asset && h.get(header::CACHE_CONTROL).is_none_or(stored) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    res
}
