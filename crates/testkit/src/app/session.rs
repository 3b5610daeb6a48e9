//! Signed-in staff: a member of a clinic with a role, its session already past both factors, so
//! a test of a page does not walk the sign-in forms (the auth suite does that).
use tsunagu_accounts::{sessions, staff};
use tsunagu_core::{ClinicId, Role, StaffId};

use super::TestApp;

/// A signed-in staff member: the session cookie's token and the form (CSRF) token.
pub struct StaffSession {
    pub staff_id: StaffId,
    pub cookie: String,
    pub csrf: String,
}

impl TestApp {
    /// A new staff member named `name` with `role` in `clinic`, signed in from the builder's
    /// client address, now.
    pub async fn staff_session(&self, clinic: &ClinicId, role: Role, name: &str) -> StaffSession {
        let now = self.now_ms();
        let ip = self.peer.map(|p| p.ip().to_string());
        let mut tx = self.db.begin().await.unwrap();
        let email = format!("{}@example.jp", uuid::Uuid::now_v7());
        let staff_id = staff::create(tx.conn(), &email, name, "$argon2id$unused", now)
            .await
            .unwrap();
        staff::add_membership(tx.conn(), &staff_id, clinic, role, now)
            .await
            .unwrap();
        let s = sessions::create(tx.conn(), &staff_id, Some(clinic), true, ip.as_deref(), now)
            .await
            .unwrap();
        tx.commit().await.unwrap();
        StaffSession {
            staff_id,
            cookie: s.token,
            csrf: s.csrf_token,
        }
    }
}
