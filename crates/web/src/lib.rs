//! The web face of tsunagu: provider webhooks, the `/api/v1` JSON API and the staff UI.
//! Each area owns its `router()`; `router()` here merges them and adds the security headers,
//! request ids and the request span (`trace`).
pub mod api;
pub mod assets;
pub mod cache;
pub mod channel_cache;
pub mod channel_setup;
pub mod client_ip;
pub mod conversation_filter;
pub mod error;
pub mod error_page;
pub mod i18n;
pub mod search_params;
pub mod security;
pub mod state;
pub mod trace;
pub mod ui;
pub mod webhooks;

pub use error::{ApiError, PageError};
pub use state::AppState;

use axum::Router;

/// The whole application router (no emulators: `serve` never mounts them).
pub fn router(state: AppState) -> Router {
    Router::new()
        .merge(webhooks::router())
        .merge(api::router())
        .merge(ui::router())
        .merge(assets::router())
        .merge(health_router())
        .fallback(error_page::not_found)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            security::same_origin,
        ))
        // Outside what may refuse a page, so every `PageError` reads in the reader's language.
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            error_page::pages,
        ))
        .layer(axum::middleware::from_fn(security::headers))
        .layer(axum::middleware::from_fn(cache::no_store))
        // Outermost: the span covers every other layer; the id is picked before it opens.
        .layer(trace::layer())
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            trace::request_id,
        ))
        .with_state(state)
}

fn health_router() -> Router<AppState> {
    use axum::extract::State;
    use axum::http::StatusCode;
    use axum::routing::get;
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route(
            "/readyz",
            get(|State(s): State<AppState>| async move {
                if s.db.ping().await {
                    (StatusCode::OK, "ready")
                } else {
                    (StatusCode::SERVICE_UNAVAILABLE, "database unreachable")
                }
            }),
        )
}
