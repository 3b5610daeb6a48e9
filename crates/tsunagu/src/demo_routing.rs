//! The demo clinic's staff by name and its teams: 受付 (round-robin, every channel's new
//! conversations join it), 看護 and 会計 (conversations wait in the queue), with reception
//! and the director available, so automatic assignment shows at the first patient message.
use tsunagu_core::{ClinicId, Role};
use tsunagu_inbox::routing::availability::{self, Availability};
use tsunagu_inbox::routing::teams::{self, AssignMode};
use tsunagu_store::Db;

use crate::demo::{DEMO_OWNER, DEMO_PASSWORD, DEMO_RECEPTION};

pub const DEMO_NURSE: &str = "nurse@sakura-clinic.example";
pub const DEMO_BILLING: &str = "billing@sakura-clinic.example";

/// (e-mail, name, role, team, available)
const STAFF: [(&str, &str, Role, &str, bool); 4] = [
    (
        DEMO_RECEPTION,
        "受付 小林 さくら",
        Role::Receptionist,
        "受付",
        true,
    ),
    (DEMO_OWNER, "院長 森 健太郎", Role::Owner, "受付", true),
    (
        DEMO_NURSE,
        "看護師 高橋 美和",
        Role::Clinician,
        "看護",
        false,
    ),
    (
        DEMO_BILLING,
        "会計 中村 由紀",
        Role::Receptionist,
        "会計",
        false,
    ),
];

const TEAMS: [(&str, AssignMode); 3] = [
    ("受付", AssignMode::RoundRobin),
    ("看護", AssignMode::Off),
    ("会計", AssignMode::Off),
];

pub async fn seed(db: &Db, clinic: &ClinicId, now: i64) -> anyhow::Result<()> {
    let mut team_ids = Vec::new();
    let mut conn = db.pool().acquire().await?;
    for (name, mode) in TEAMS {
        if let Some(id) = teams::create(&mut conn, clinic, name, mode, now).await? {
            team_ids.push((name, id));
        }
    }
    drop(conn);
    for (email, name, role, team, online) in STAFF {
        let added = tsunagu_accounts::staff::add_named_user(
            db,
            "sakura",
            email,
            Some(name),
            role,
            Some(DEMO_PASSWORD),
            now,
        )
        .await?;
        let mut conn = db.pool().acquire().await?;
        let staff = added.staff_id.as_str();
        if let Some((_, id)) = team_ids.iter().find(|(n, _)| *n == team) {
            teams::add_member(&mut conn, clinic, id, staff).await?;
        }
        let a = if online {
            Availability::Online
        } else {
            Availability::Offline
        };
        availability::set(&mut conn, clinic, staff, a, now).await?;
    }
    Ok(())
}

/// Every channel's new conversations join 受付 (call after the channels exist).
pub async fn route_channels(db: &Db, clinic: &ClinicId) -> anyhow::Result<()> {
    let mut conn = db.pool().acquire().await?;
    let Some(reception) = teams::list(&mut conn, clinic)
        .await?
        .into_iter()
        .find(|t| t.name == "受付")
    else {
        return Ok(());
    };
    for (channel, _) in teams::channel_teams(&mut conn, clinic).await? {
        teams::set_channel_team(&mut conn, clinic, &channel, Some(&reception.id)).await?;
    }
    Ok(())
}
