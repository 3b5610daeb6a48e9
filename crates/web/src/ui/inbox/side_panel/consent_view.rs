//! Consent in the side panel: one line per purpose from the ledger (`privacy::consent`),
//! read-only. A purpose decided alike on every channel shows one status; otherwise each
//! channel's own.
use std::collections::HashMap;

use serde::Serialize;
use sqlx::AnyConnection;
use tsunagu_core::{ClinicId, PatientId};
use tsunagu_privacy::consent::{self, ConsentState, Purpose, Status};

use crate::i18n::text;
use crate::PageError;

#[derive(Debug, Serialize)]
pub struct Row {
    purpose: String,
    /// granted | implicit | withdrawn | unset | mixed
    status: &'static str,
    words: String,
}

fn code(s: Status) -> &'static str {
    match s {
        Status::Granted => "granted",
        Status::Withdrawn => "withdrawn",
        Status::Implicit => "implicit",
        Status::Unset => "unset",
    }
}

/// `names`: channel id → (kind, name).
pub async fn rows(
    conn: &mut AnyConnection,
    lang: &str,
    clinic: &ClinicId,
    patient: &PatientId,
    names: &HashMap<String, (String, String)>,
) -> Result<Vec<Row>, PageError> {
    let current = consent::current(conn, clinic, patient).await?;
    Ok(Purpose::ALL
        .iter()
        .map(|p| row(lang, *p, &current, names))
        .collect())
}

fn row(
    lang: &str,
    p: Purpose,
    current: &[ConsentState],
    names: &HashMap<String, (String, String)>,
) -> Row {
    let mine: Vec<&ConsentState> = current.iter().filter(|s| s.purpose == p).collect();
    // Each channel's state already falls back to the all-channels row; with no channel at
    // all, the all-channels row is what there is.
    let per_channel: Vec<&ConsentState> = mine
        .iter()
        .copied()
        .filter(|s| s.channel_id.is_some())
        .collect();
    let shown = if per_channel.is_empty() {
        mine.iter()
            .copied()
            .filter(|s| s.channel_id.is_none())
            .collect()
    } else {
        per_channel
    };
    let words = |s: Status| text(lang, &format!("consent.status.{}", code(s)));
    let purpose = text(lang, &format!("consent.purpose.{}", p.code()));
    let first = shown.first().map_or(Status::Unset, |s| s.status);
    if shown.iter().all(|s| s.status == first) {
        return Row {
            purpose,
            status: code(first),
            words: words(first),
        };
    }
    let parts: Vec<String> = shown
        .iter()
        .map(|s| {
            let ch = s.channel_id.as_deref().unwrap_or_default();
            let name = names.get(ch).map(|(_, n)| n.as_str()).unwrap_or_default();
            format!("{name}: {}", words(s.status))
        })
        .collect();
    Row {
        purpose,
        status: "mixed",
        words: parts.join(text(lang, "panel.list_separator").as_str()),
    }
}
