//! The demo clinic's on-call rota (オンコール当番): the nurse first, then the director, for the
//! week from the demo's start, so a red-flag message at any hour (`--start-at` 02:00) notifies
//! them in turn. The guidance texts are the defaults (no settings row).
use anyhow::Context;
use tsunagu_core::ClinicId;
use tsunagu_store::Db;

use crate::demo::DEMO_OWNER;
use crate::demo_routing::DEMO_NURSE;

const WEEK_MS: i64 = 7 * 24 * 3_600_000;

pub async fn seed(db: &Db, clinic: &ClinicId, now: i64) -> anyhow::Result<()> {
    let mut conn = db.pool().acquire().await?;
    let span = (now - 3_600_000, now + WEEK_MS);
    for email in [DEMO_NURSE, DEMO_OWNER] {
        let staff = tsunagu_accounts::staff::by_email(&mut conn, email)
            .await?
            .with_context(|| format!("the demo's {email}"))?;
        tsunagu_safety::rota::add(&mut conn, clinic, &staff.id, span, now)
            .await?
            .map_err(|why| anyhow::anyhow!("putting {email} on call: {why:?}"))?;
    }
    Ok(())
}
