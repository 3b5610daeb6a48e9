//! What `templates/layout.html` needs on every signed-in page: the clinic, the staff member,
//! the navigation they may use and the clinic switcher. Other areas build it with [`shell`] and
//! pass it as `shell` (and `lang`) to a template that extends `layout.html`.
use serde::Serialize;
use tsunagu_core::Permission;

use super::queries;
use crate::ui::session::Staff;
use crate::{AppState, PageError};

#[derive(Clone, Debug, Serialize)]
pub struct ClinicChoice {
    pub id: String,
    pub name: String,
    pub current: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct Shell {
    pub lang: &'static str,
    pub clinic_name: String,
    pub staff_name: String,
    pub csrf_token: String,
    /// Filled only when the staff member works in more than one clinic.
    pub clinics: Vec<ClinicChoice>,
    pub can_audit: bool,
    /// inbox | audit | account: the nav entry marked current.
    pub active: &'static str,
}

pub async fn shell(state: &AppState, staff: &Staff, active: &'static str) -> Result<Shell, PageError> {
    let mut conn = state.db.pool().acquire().await.map_err(anyhow::Error::from)?;
    let all = queries::clinics_of(&mut conn, staff.staff_id.as_str()).await?;
    let clinics = if all.len() > 1 {
        all.into_iter()
            .map(|(id, name)| ClinicChoice { current: id == staff.clinic.id, id, name })
            .collect()
    } else {
        Vec::new()
    };
    Ok(Shell {
        lang: staff.lang,
        clinic_name: staff.clinic.name.clone(),
        staff_name: staff.display_name.clone(),
        csrf_token: staff.csrf_token.clone(),
        clinics,
        can_audit: staff.can(Permission::ReadAudit),
        active,
    })
}
