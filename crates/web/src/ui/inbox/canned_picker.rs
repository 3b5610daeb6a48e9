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

/// The name the patient goes by here: their record's once it is more than provisional, else
/// the one their channel gave, else the provisional record's; empty in a group (a canned reply
/// there addresses no one by name).
async fn patient_name(
    conn: &mut sqlx::AnyConnection,
    staff: &Staff,
    conv: &Conversation,
) -> Result<String, PageError> {
    if conv.kind != "direct" {
        return Ok(String::new());
    }
    let clinic = staff.clinic.clinic_id();
    let channel = ChannelId::from_db(conv.channel_id.clone());
    let identity = patients::identity(&mut *conn, &channel, &conv.thread_key)
        .await?
        .filter(|i| i.clinic_id == staff.clinic.id);
    let patient_id = conv
        .patient_id
        .clone()
        .or_else(|| identity.as_ref().map(|i| i.patient_id.clone()));
    let patient = match patient_id {
        Some(p) => patients::by_id(&mut *conn, &clinic, &PatientId::from_db(p)).await?,
        None => None,
    };
    let (record, provisional) = match &patient {
        Some(p) => (Some(p.display_name.as_str()), p.provisional != 0),
        None => (None, true),
    };
    let given = identity.as_ref().and_then(|i| i.display_name.as_deref());
    let order = if provisional {
        [given, record]
    } else {
        [record, given]
    };
    let name = order
        .into_iter()
        .flatten()
        .map(str::trim)
        .find(|n| is_a_name(n))
        .unwrap_or_default()
        .to_string();
    Ok(name)
}

/// Whether a recorded name can address the patient: not empty, and not the phone number an
/// SMS contact is recorded under until someone names them ("+819012345678様" helps no one).
fn is_a_name(n: &str) -> bool {
    let phone = n.chars().all(|c| c.is_ascii_digit() || "+-() ".contains(c));
    !n.is_empty() && !phone
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
        clinic_phone: clinics::phone(&mut conn, &clinic)
            .await?
            .unwrap_or_default(),
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

#[cfg(test)]
mod tests {
    use super::is_a_name;

    #[test]
    fn a_phone_number_recorded_as_the_name_is_not_used_to_address_the_patient() {
        assert!(is_a_name("山田 花子") && is_a_name("Emily Carter"));
        assert!(!is_a_name("+819012345678") && !is_a_name("090-1234-5678") && !is_a_name(""));
    }
}
