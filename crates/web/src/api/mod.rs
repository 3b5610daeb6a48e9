//! `/api/v1`: JSON for integrators, bearer tokens with scopes, one clinic per token.
use axum::Router;

use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
}
