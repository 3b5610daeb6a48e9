//! `tsunagu rotate-key`: re-encrypts every secret stored under the old `TSUNAGU_ENCRYPTION_KEY`
//! under a new one, in one transaction: either every value moves or none does.
//!
//! A value the new key already opens is left as it is, so running the same rotation again (or
//! after a server with the new key wrote a secret) succeeds without changing anything. A value
//! neither key opens stops the rotation: nothing is written and the values are named.
use anyhow::Context;
use tsunagu_privacy::audit::{self, Actor, AuditEntry};
use tsunagu_privacy::Cipher;
use tsunagu_store::secrets::{self, ENCRYPTED};
use tsunagu_store::Db;

/// What a rotation did, per column (`what`, re-encrypted, already under the new key).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Rotated {
    pub columns: Vec<(&'static str, u64, u64)>,
}

impl Rotated {
    /// Values re-encrypted in all.
    pub fn total(&self) -> u64 {
        self.columns.iter().map(|c| c.1).sum()
    }
}

impl std::fmt::Display for Rotated {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = self
            .columns
            .iter()
            .map(|(what, done, already)| match already {
                0 => format!("{done} {what}"),
                n => format!("{done} {what} ({n} already under the new key)"),
            })
            .collect();
        f.write_str(&parts.join(", "))
    }
}

/// Re-encrypts every stored secret from `old` to `new`. With `dry_run` it checks that every
/// value can be moved and changes nothing.
pub async fn rotate(
    db: &Db,
    old: &[u8; 32],
    new: &[u8; 32],
    dry_run: bool,
    now_ms: i64,
) -> anyhow::Result<Rotated> {
    if old == new {
        anyhow::bail!("the old and the new key are the same: nothing to rotate");
    }
    let (old, new) = (Cipher::new(old), Cipher::new(new));
    let mut tx = db.begin().await?;
    secrets::lock_for_rotation(&mut tx, db.backend()).await?;
    let mut rotated = Rotated::default();
    let mut unreadable = Vec::new();
    for c in &ENCRYPTED {
        let rows = secrets::values(tx.conn(), c).await?;
        let (mut done, mut already) = (0, 0);
        for (id, stored) in rows {
            let Ok(plain) = old.decrypt(&stored) else {
                match new.decrypt(&stored) {
                    Ok(_) => already += 1,
                    Err(_) => unreadable.push(format!("{} {id}", c.table)),
                }
                continue;
            };
            let fresh = new.encrypt(&plain);
            let replaced = secrets::replace(tx.conn(), c, &id, &stored, &fresh).await?;
            if !replaced {
                anyhow::bail!("{} {id} changed during the rotation; nothing was changed: stop tsunagu and run it again", c.table);
            }
            done += 1;
        }
        rotated.columns.push((c.what, done, already));
    }
    if !unreadable.is_empty() {
        let shown: Vec<&str> = unreadable.iter().take(5).map(String::as_str).collect();
        anyhow::bail!(
            "the old key does not decrypt {} stored secret(s) ({}{}); nothing was changed. Is the old key the one in use until now?",
            unreadable.len(),
            shown.join(", "),
            if unreadable.len() > shown.len() { ", …" } else { "" }
        );
    }
    if dry_run || rotated.total() == 0 {
        return Ok(rotated); // dropping the transaction rolls it back
    }
    let entry = AuditEntry {
        clinic_id: None,
        actor: &Actor::System,
        action: "encryption_key.rotate",
        subject_type: None,
        subject_ids: &[],
        source_ip: None,
    };
    audit::record(tx.conn(), db.backend(), entry, now_ms).await?;
    tx.commit().await.context("committing the rotation")?;
    Ok(rotated)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_summary_names_each_kind_of_secret() {
        let r = Rotated {
            columns: vec![("channel credentials", 2, 0), ("2FA secrets", 1, 3)],
        };
        assert_eq!(r.total(), 3);
        assert_eq!(
            r.to_string(),
            "2 channel credentials, 1 2FA secrets (3 already under the new key)"
        );
    }
}
