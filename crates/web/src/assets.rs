//! Templates and static files compiled into the binary: running tsunagu needs no Node toolchain.
use axum::extract::Path;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use rust_embed::RustEmbed;

use crate::AppState;

#[derive(RustEmbed)]
#[folder = "templates/"]
struct Templates;

#[derive(RustEmbed)]
#[folder = "static/"]
struct Static;

/// Every file under templates/ by its relative path, auto-escaping HTML.
pub fn templates() -> minijinja::Environment<'static> {
    let mut env = minijinja::Environment::new();
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::Html);
    for name in Templates::iter() {
        if let Some(f) = Templates::get(&name) {
            let src = String::from_utf8_lossy(&f.data).into_owned();
            if let Err(e) = env.add_template_owned(name.to_string(), src) {
                tracing::error!("template {name} does not compile: {e}");
            }
        }
    }
    crate::i18n::register(&mut env);
    env
}

pub fn router() -> Router<AppState> {
    Router::new().route("/static/{*path}", get(serve_static))
}

async fn serve_static(Path(path): Path<String>) -> impl IntoResponse {
    match Static::get(&path) {
        Some(f) => {
            let mime = match path.rsplit('.').next() {
                Some("js") => "text/javascript; charset=utf-8",
                Some("css") => "text/css; charset=utf-8",
                Some("svg") => "image/svg+xml",
                Some("png") => "image/png",
                _ => "application/octet-stream",
            };
            (
                [
                    (header::CONTENT_TYPE, mime),
                    (header::CACHE_CONTROL, "public, max-age=300"),
                ],
                f.data.into_owned(),
            )
                .into_response()
        }
        None => StatusCode::NOT_FOUND.into_response(),
    }
}
