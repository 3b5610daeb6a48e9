//! The page shown instead of a staff page that cannot be shown (403, 404, 401 on a form, 500, a
//! refusal as a whole page): in the reader's language, saying what happened and what to do,
//! with a way back to the inbox (and to the previous page when the browser has one).
//!
//! A `PageError` knows its status and code but not who asked, so it marks its response with
//! `Failed`; `pages`, a layer around every route, renders that mark in the session's language
//! (`SessionLang`, filled by the `Staff` extractor) or the browser's when nobody is signed in.
use std::sync::{Arc, OnceLock};

use axum::body::Body;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tsunagu_core::{Code, Refusal};

use crate::i18n;
use crate::ui::auth::browser_lang;
use crate::ui::session::Staff;
use crate::AppState;

/// Put on a `PageError`'s response for `pages` to render.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Failed {
    pub status: StatusCode,
    pub code: Code,
}

/// The language of the request's signed-in staff member, once the `Staff` extractor knows it.
#[derive(Clone, Debug, Default)]
pub struct SessionLang(Arc<OnceLock<&'static str>>);

impl SessionLang {
    pub fn set(&self, lang: &'static str) {
        let _ = self.0.set(lang);
    }
}

/// Renders a marked error response as the full page; anything else passes unchanged.
pub async fn pages(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let session = SessionLang::default();
    req.extensions_mut().insert(session.clone());
    let browser = browser_lang(req.headers());
    let res = next.run(req).await;
    let Some(failed) = res.extensions().get::<Failed>().copied() else {
        return res;
    };
    let lang = session.0.get().copied().unwrap_or(browser);
    match page(&state, lang, failed) {
        Ok(html) => {
            let (mut parts, _) = res.into_parts();
            parts.headers.remove(header::CONTENT_LENGTH);
            parts.headers.insert(
                header::CONTENT_TYPE,
                header::HeaderValue::from_static("text/html; charset=utf-8"),
            );
            Response::from_parts(parts, Body::from(html))
        }
        Err(e) => {
            tracing::error!(error = %format!("{e:#}"), "rendering an error page");
            res
        }
    }
}

/// What the page says for a status: its heading, what happened (for the generic codes; a
/// specific code's own words otherwise) and what to do.
fn words(lang: &str, f: Failed) -> (String, String, String) {
    let kind = match f.status {
        StatusCode::FORBIDDEN => "forbidden",
        StatusCode::NOT_FOUND => "not_found",
        StatusCode::UNAUTHORIZED => "unauthorized",
        s if s.is_server_error() => "internal",
        _ => "refused",
    };
    let t = |part: &str| i18n::text(lang, &format!("fixes.error.{kind}.{part}"));
    let generic = matches!(
        f.code,
        Code::Forbidden | Code::NotFound | Code::Unauthorized | Code::Internal
    );
    let what = if generic || kind == "internal" {
        t("what")
    } else {
        i18n::refusal(lang, &Refusal::new(f.code))
    };
    (t("title"), what, t("todo"))
}

fn page(state: &AppState, lang: &'static str, f: Failed) -> anyhow::Result<String> {
    let (title, what, todo) = words(lang, f);
    let signed_out = f.status == StatusCode::UNAUTHORIZED;
    let ctx = minijinja::context! { lang, title, what, todo, signed_out };
    let tmpl = state.templates.get_template("errors/page.html")?;
    Ok(tmpl.render(ctx)?)
}

/// The plain page a `PageError` carries before `pages` renders it (never seen when the layer
/// is on): Japanese, with the way back.
pub(crate) fn fallback(f: Failed) -> Response {
    let (title, what, todo) = words("ja", f);
    let esc = crate::security::escape;
    let html = format!(
        "<!doctype html><html lang=\"ja\"><meta charset=\"utf-8\"><title>{}</title><link rel=\"stylesheet\" href=\"/static/app.css\"><main class=\"error-page\"><h1>{}</h1><p>{}</p><p>{}</p><p><a href=\"/app/inbox\">{}</a></p></main></html>",
        esc(&title),
        esc(&title),
        esc(&what),
        esc(&todo),
        esc(&i18n::text("ja", "fixes.error.to_inbox")),
    );
    let mut res = (f.status, axum::response::Html(html)).into_response();
    res.extensions_mut().insert(f);
    res
}

/// A staff path no route serves: the 404 page rather than an empty answer (elsewhere, the
/// API's and the webhooks' plain 404).
pub async fn not_found(State(state): State<AppState>, req: Request) -> Response {
    if !req.uri().path().starts_with("/app") {
        return StatusCode::NOT_FOUND.into_response();
    }
    // Signed in: the page in the clinic's language (the extractor tells `SessionLang`).
    let (mut parts, _) = req.into_parts();
    let _ = <Staff as FromRequestParts<AppState>>::from_request_parts(&mut parts, &state).await;
    crate::PageError::not_found().into_response()
}
