//! Pacing a send under its adapter's budgets (`Deliver::plan`), durable in `store::pacing` and
//! shared by every worker: no slot means the job waits without using up an attempt.
use std::time::Duration;

use tsunagu_channels::provider::deliver::Pace;
use tsunagu_store::pacing;

use crate::worker::Worker;

/// Takes a slot under every budget, or none: `Some(at)` means come back then.
pub(crate) async fn take(w: &Worker, budgets: &[Pace]) -> anyhow::Result<Option<i64>> {
    if budgets.is_empty() {
        return Ok(None);
    }
    let now = w.clock.now_ms();
    let mut tx = w.db.begin().await?;
    for b in budgets {
        if let Some(at) = pacing::take_slot(tx.conn(), &b.key, b.interval_ms, b.burst, now).await? {
            return Ok(Some(at)); // dropping the transaction gives back the slots taken
        }
    }
    tx.commit().await?;
    Ok(None)
}

/// The provider said "slow down": every later send under `key` waits `after`.
pub(crate) async fn hold(w: &Worker, key: &str, after: Duration) -> anyhow::Result<()> {
    let mut conn = w.db.pool().acquire().await?;
    let at = w.clock.now_ms() + after.as_millis() as i64;
    pacing::hold_until(&mut conn, key, at).await
}
