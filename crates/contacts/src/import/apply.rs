//! Writing a plan: re-planned inside the transaction, so what is written is what the plan
//! says about the records as they are now, and refused whole while any row is refused.
use chrono::NaiveDate;
use tsunagu_core::{ClinicId, PatientId};
use tsunagu_privacy::audit::{self, Actor, AuditEntry};
use tsunagu_store::Db;

use super::{plan, ImportPlan};
use crate::patients::{self, PatientError};

/// Who imports, for the audit trail.
pub struct Author<'a> {
    pub actor: &'a Actor,
    pub source_ip: Option<&'a str>,
}

#[derive(Debug)]
pub struct Applied {
    pub created: Vec<String>,
    pub updated: Vec<String>,
    pub plan: ImportPlan,
}

#[derive(Debug, thiserror::Error)]
pub enum ApplyError {
    /// Rows (or the file) are refused: nothing was written.
    #[error("import_has_errors")]
    Invalid(Box<ImportPlan>),
    /// The file or the clinic's records changed since the dry run: nothing was written.
    #[error("import_plan_changed")]
    Changed(Box<ImportPlan>),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// Applies the import of `csv` in one transaction, with one `patient.import` audit row naming
/// every record created or updated. With `plan_token` (from the dry run) it refuses when the
/// plan would now differ from the one staff confirmed.
pub async fn apply(
    db: &Db,
    clinic: &ClinicId,
    csv: &[u8],
    plan_token: Option<&str>,
    by: Author<'_>,
    today: NaiveDate,
    now_ms: i64,
) -> Result<Applied, ApplyError> {
    let mut tx = db.begin().await?;
    let mut p = plan(tx.conn(), clinic, csv, today).await?;
    if !p.is_valid() {
        return Err(ApplyError::Invalid(Box::new(p)));
    }
    if plan_token.is_some_and(|t| t != p.token) {
        return Err(ApplyError::Changed(Box::new(p)));
    }
    let (mut created, mut updated) = (Vec::new(), Vec::new());
    for row in &mut p.rows {
        let Some(changes) = row.changes.take() else {
            continue;
        };
        let written = match &row.patient_id {
            Some(id) => {
                let id = PatientId::from_db(id.clone());
                patients::apply(tx.conn(), clinic, &id, &changes, now_ms)
                    .await
                    .map(|_| {
                        updated.push(id.into_string());
                    })
            }
            None => patients::insert(tx.conn(), clinic, &changes, now_ms)
                .await
                .map(|id| {
                    row.patient_id = Some(id.to_string());
                    created.push(id.into_string());
                }),
        };
        match written {
            Ok(()) => {}
            // A card number taken between the plan's read and this write: another writer won.
            Err(PatientError::Invalid(_) | PatientError::NotFound) => {
                return Err(ApplyError::Changed(Box::new(p)))
            }
            Err(PatientError::Internal(e)) => return Err(e.into()),
        }
    }
    let ids: Vec<&str> = created
        .iter()
        .chain(updated.iter())
        .map(String::as_str)
        .collect();
    let entry = AuditEntry {
        clinic_id: Some(clinic),
        actor: by.actor,
        action: "patient.import",
        subject_type: Some("patient"),
        subject_ids: &ids,
        source_ip: by.source_ip,
    };
    audit::record(tx.conn(), db.backend(), entry, now_ms).await?;
    tx.commit().await?;
    Ok(Applied {
        created,
        updated,
        plan: p,
    })
}
