//! `GET /app/conversations/{id}/canned?q=…`: the canned responses the reply box's `/` picker
//! offers, filtered by what follows the `/`, each body filled in for this conversation (the
//! patient's name, the clinic's, the staff member's). JSON for `static/canned.js`; nothing of
//! the patient is logged.
use axum::extract::{Path, Query, State};
use axum::Json;
use serde::{Deserialize, Serialize};
use tsunagu_core::Permission;
use tsunagu_inbox::canned::{self, Vars};

use super::conversation::find;
use crate::ui::conn;
use crate::ui::session::Staff;
use crate::{AppState, PageError};

#[derive(Deserialize)]
pub struct PickerQuery {
    #[serde(default)]
    q: String,
}

#[derive(Serialize)]
pub struct Offered {
    id: String,
    shortcut: String,
    title: String,
    /// Ready to insert: the variables filled in for this conversation.
    body: String,
}

#[derive(Serialize)]
pub struct Offers {
    items: Vec<Offered>,
}

pub async fn offers(
    State(state): State<AppState>,
    staff: Staff,
    Path(id): Path<String>,
    Query(q): Query<PickerQuery>,
) -> Result<Json<Offers>, PageError> {
    staff.require(Permission::ReadMessages)?;
    let conv = find(&state, &staff, &id).await?;
    let clinic = staff.clinic.clinic_id();
    let mut conn = conn(&state).await?;
    let found = canned::matching(&mut conn, &clinic, &q.q).await?;
    if found.is_empty() {
        return Ok(Json(Offers { items: Vec::new() }));
    }
    let vars = Vars {
        clinic_name: staff.clinic.name.clone(),
        ..canned::vars::for_conversation(&mut conn, &clinic, &conv, &staff.display_name).await?
    };
    let items = found
        .into_iter()
        .map(|c| Offered {
            body: canned::render::render(&c.body, &vars),
            id: c.id,
            shortcut: c.shortcut,
            title: c.title,
        })
        .collect();
    Ok(Json(Offers { items }))
}
