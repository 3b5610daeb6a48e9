//! `/app/patients/{id}/consent`: a patient's consent per purpose × channel, the full ledger
//! history, a form to record what the patient said (staff entries need a reason), and a form
//! to send a message for a purpose through the consent check.
mod forms;
mod page;

use axum::routing::{get, post};
use axum::Router;

use crate::ui::render;
use crate::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/app/patients/{id}/consent", get(page::show))
        .route("/app/patients/{id}/consent", post(forms::record))
        .route("/app/patients/{id}/consent/send", post(forms::send))
}
