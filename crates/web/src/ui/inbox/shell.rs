//! What `templates/layout.html` needs on every signed-in page: the clinic, the staff member,
//! the navigation they may use and the clinic switcher. Other areas build it with [`shell`] and
//! pass it as `shell` (and `lang`) to a template that extends `layout.html`.
use serde::Serialize;
use tsunagu_core::Permission;

use super::conn;
use crate::ui::session::Staff;
use crate::{AppState, PageError};
use tsunagu_accounts::staff as accounts;
use tsunagu_inbox::routing::availability as routing;

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
    /// Everyone who may read patient records: the patients page.
    pub can_patients: bool,
    /// Owners and admins: the settings pages.
    pub can_administer: bool,
    /// Managers and analysts too: the satisfaction results (満足度).
    pub can_figures: bool,
    /// inbox | patients | audit | satisfaction | settings | account | mentions: the nav entry
    /// marked current.
    pub active: &'static str,
    /// Notes that mention me, not seen yet (the header's メンション badge).
    pub mentions: i64,
    /// Staff who may reply: their availability here and the three to switch between.
    pub availability: Option<AvailabilitySwitch>,
}

#[derive(Clone, Debug, Serialize)]
pub struct AvailabilitySwitch {
    /// online | away | offline
    pub current: &'static str,
    pub choices: [&'static str; 3],
}

pub async fn shell(
    state: &AppState,
    staff: &Staff,
    active: &'static str,
) -> Result<Shell, PageError> {
    let mut conn = conn(state).await?;
    let all = accounts::memberships(&mut conn, &staff.staff_id).await?;
    let clinics = if all.len() > 1 {
        all.into_iter()
            .map(|m| ClinicChoice {
                current: m.clinic_id == staff.clinic.id,
                id: m.clinic_id,
                name: m.clinic_name,
            })
            .collect()
    } else {
        Vec::new()
    };
    let mentions = if staff.can(Permission::ReadMessages) {
        let clinic = staff.clinic.clinic_id();
        tsunagu_inbox::notes::unseen_count(&mut conn, &clinic, staff.staff_id.as_str()).await?
    } else {
        0
    };
    let availability = if staff.can(Permission::Reply) {
        let clinic = staff.clinic.clinic_id();
        let a = routing::get(&mut conn, &clinic, staff.staff_id.as_str()).await?;
        Some(AvailabilitySwitch {
            current: a.as_str(),
            choices: routing::Availability::ALL.map(routing::Availability::as_str),
        })
    } else {
        None
    };
    Ok(Shell {
        mentions,
        lang: staff.lang,
        clinic_name: staff.clinic.name.clone(),
        staff_name: staff.display_name.clone(),
        csrf_token: staff.csrf_token.clone(),
        clinics,
        can_audit: staff.can(Permission::ReadAudit),
        can_patients: staff.can(Permission::ReadPatients),
        can_administer: staff.can(Permission::Administer),
        can_figures: staff.can(Permission::ReadFigures),
        active,
        availability,
    })
}
