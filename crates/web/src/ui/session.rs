//! Staff sessions. (Being built: sign-in, 2FA, CSRF, idle logout.)
use axum::Router;
use tsunagu_core::{Permission, Role, StaffId};
use tsunagu_privacy::Actor;
use tsunagu_store::clinics::Clinic;

use crate::{AppState, PageError};

/// A signed-in staff member acting in one clinic: password and second factor checked, session
/// not idle. Extracting it from a request refreshes the idle clock (except for the live stream).
#[derive(Clone, Debug)]
pub struct Staff {
    pub staff_id: StaffId,
    pub email: String,
    pub display_name: String,
    pub clinic: Clinic,
    pub role: Role,
    pub csrf_token: String,
    /// ja | en, from the clinic's locale.
    pub lang: &'static str,
}

impl Staff {
    pub fn can(&self, p: Permission) -> bool {
        self.role.can(p)
    }
    pub fn require(&self, p: Permission) -> Result<(), PageError> {
        if self.can(p) {
            Ok(())
        } else {
            Err(PageError::forbidden())
        }
    }
    pub fn actor(&self) -> Actor {
        Actor::Staff(self.staff_id.to_string())
    }
}

pub fn router() -> Router<AppState> {
    Router::new()
}
