//! `GET /app/conversations/{id}/canned?q=…`: the canned responses the reply box's `/` picker
//! offers, filtered by what follows the `/`, each body filled in for this conversation (the
//! patient's name, the clinic's, the staff member's). JSON for `static/canned.js`; nothing of
//! the patient is logged.
use axum::extract::{Path, Query, State};
use axum::Json;
use serde::{Deserialize, Serialize};
use tsunagu_core::{ChannelId, PatientId, Permission};
use tsunagu_inbox::canned::{self, Vars};
use tsunagu_store::conversations::Conversation;
use tsunagu_store::{clinics, patients};

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

/// The name the patient goes by here: their record's, else the one their channel gave; empty
/// in a group (a canned reply there addresses no one by name).
async fn patient_name(
    conn: &mut sqlx::AnyConnection,
    staff: &Staff,
    conv: &Conversation,
) -> Result<String, PageError> {
    if conv.kind != "direct" {
        return Ok(String::new());
    }
    let clinic = staff.clinic.clinic_id();
    if let Some(p) = &conv.patient_id {
        let id = PatientId::from_db(p.clone());
        if let Some(p) = patients::by_id(&mut *conn, &clinic, &id).await? {
            if !p.display_name.trim().is_empty() {
                return Ok(p.display_name.trim().to_string());
            }
        }
    }
    let channel = ChannelId::from_db(conv.channel_id.clone());
    let identity = patients::identity(conn, &channel, &conv.thread_key).await?;
    Ok(identity
        .filter(|i| i.clinic_id == staff.clinic.id)
        .and_then(|i| i.display_name)
        .map(|n| n.trim().to_string())
        .unwrap_or_default())
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
        patient_name: patient_name(&mut conn, &staff, &conv).await?,
        clinic_name: staff.clinic.name.clone(),
        clinic_phone: clinics::phone(&mut conn, &clinic).await?.unwrap_or_default(),
        staff_name: staff.display_name.trim().to_string(),
        appointment_next: String::new(),
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
