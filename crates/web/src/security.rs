//! Response headers every page gets: a strict CSP (no inline script or style), no framing,
//! no sniffing, no referrer leaking conversation URLs. And a same-origin check on the staff
//! UI's state-changing requests, a second line behind the CSRF token.
use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::AppState;

pub const CSP: &str = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: https:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'";

pub async fn headers(req: Request, next: Next) -> Response {
    let mut res = next.run(req).await;
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    res
}

/// Refuses (403, the CSRF page) a state-changing browser request that says it came from
/// another site: `Sec-Fetch-Site` other than `same-origin`/`none`, or else an `Origin` that is
/// neither this host nor the public URL. Webhooks and the token-authenticated API carry no
/// cookies and are left to their own checks; requests with neither header (not a browser,
/// or an old one) still need the CSRF token.
pub async fn same_origin(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let safe = matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS);
    let path = req.uri().path();
    let exempt = path.starts_with("/webhooks/") || path.starts_with("/api/");
    if safe || exempt || from_this_site(req.headers(), &state.settings.public_base()) {
        return next.run(req).await;
    }
    tracing::warn!("cross-site state-changing request refused");
    crate::ui::auth::csrf::csrf_rejection().into_response()
}

fn from_this_site(headers: &HeaderMap, public_base: &str) -> bool {
    let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    if let Some(site) = get("sec-fetch-site") {
        return matches!(site, "same-origin" | "none");
    }
    let Some(origin) = get("origin") else {
        return true;
    };
    if origin.eq_ignore_ascii_case(public_base) {
        return true;
    }
    // The Host a browser sends is the site it is talking to, which a foreign page cannot set.
    let host = get("host").unwrap_or("");
    let origin_host = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"));
    matches!(origin_host, Some(h) if !host.is_empty() && h.eq_ignore_ascii_case(host))
}

/// HTML-escapes text for the few places that build markup outside templates.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut m = HeaderMap::new();
        for (k, v) in pairs {
            m.insert(*k, HeaderValue::from_static(v));
        }
        m
    }

    #[test]
    fn only_this_site_may_change_state() {
        let base = "https://tsunagu.example.jp";
        assert!(from_this_site(
            &h(&[("sec-fetch-site", "same-origin")]),
            base
        ));
        assert!(from_this_site(&h(&[("sec-fetch-site", "none")]), base));
        assert!(!from_this_site(
            &h(&[("sec-fetch-site", "cross-site")]),
            base
        ));
        assert!(!from_this_site(
            &h(&[("sec-fetch-site", "same-site")]),
            base
        ));
        assert!(from_this_site(
            &h(&[("origin", "https://tsunagu.example.jp")]),
            base
        ));
        let local = h(&[
            ("origin", "http://localhost:8080"),
            ("host", "localhost:8080"),
        ]);
        assert!(from_this_site(&local, base));
        let foreign = h(&[
            ("origin", "https://evil.example"),
            ("host", "tsunagu.example.jp"),
        ]);
        assert!(!from_this_site(&foreign, base));
        assert!(!from_this_site(
            &h(&[("origin", "null"), ("host", "a")]),
            base
        ));
        assert!(from_this_site(&HeaderMap::new(), base));
    }
}
