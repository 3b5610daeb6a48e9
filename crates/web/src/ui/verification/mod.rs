//! `/app/patients/{id}/identity`: the patient's channel identities and whether each is verified,
//! the link history with undo, a manual link (reason required), the verification lock with an
//! unlock button, and proxies. Also the inbox's 「本人確認を依頼」 button.
mod forms;
mod names;
mod page;

use axum::routing::{get, post};
use axum::Router;

use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/app/patients/{id}/identity", get(page::show))
        .route("/app/patients/{id}/identity/link", post(forms::link))
        .route("/app/patients/{id}/identity/undo", post(forms::undo))
        .route("/app/patients/{id}/identity/unlock", post(forms::unlock))
        .route(
            "/app/patients/{id}/identity/proxies",
            post(forms::add_proxy),
        )
        .route(
            "/app/patients/{id}/identity/proxies/revoke",
            post(forms::revoke_proxy),
        )
        .route(
            "/app/conversations/{id}/verify",
            post(forms::request_verification),
        )
}
