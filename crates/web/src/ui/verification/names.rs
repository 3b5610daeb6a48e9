//! Names, not ids, on the identity page: the patients of the link history and of proxies, the
//! channel an identity belongs to, and the patient picker for adding a proxy.
use std::collections::HashMap;

use sqlx::AnyConnection;
use tsunagu_contacts::phone::display_name;
use tsunagu_contacts::search::{self, ListQuery};
use tsunagu_core::{ChannelId, ClinicId, PatientId};
use tsunagu_store::{channels, patients};

use crate::i18n::text;

/// How many patients the proxy picker offers for one search.
const PICK: i64 = 20;

/// Patient names by id, remembered across the page's rows; a patient no longer on record
/// (merged away, erased) reads as such, never as its id.
#[derive(Default)]
pub struct Names(HashMap<String, String>);

impl Names {
    pub async fn patient(
        &mut self,
        conn: &mut AnyConnection,
        clinic: &ClinicId,
        lang: &str,
        id: &str,
    ) -> anyhow::Result<String> {
        if let Some(n) = self.0.get(id) {
            return Ok(n.clone());
        }
        let name = match PatientId::parse(id) {
            Ok(pid) => patients::by_id(conn, clinic, &pid).await?,
            Err(_) => None,
        }
        .map(|p| display_name(&p.display_name))
        .unwrap_or_else(|| text(lang, "verification.patient_gone"));
        self.0.insert(id.to_string(), name.clone());
        Ok(name)
    }

    /// A proxy named by their channel account: the account's name, else its patient's.
    pub async fn identity(
        &mut self,
        conn: &mut AnyConnection,
        clinic: &ClinicId,
        lang: &str,
        id: &str,
    ) -> anyhow::Result<String> {
        match patients::identity_by_id(conn, clinic, id).await? {
            Some(i) => match i.display_name.filter(|n| !n.trim().is_empty()) {
                Some(n) => Ok(display_name(&n)),
                None => self.patient(conn, clinic, lang, &i.patient_id).await,
            },
            None => Ok(text(lang, "verification.patient_gone")),
        }
    }
}

/// `LINE さくら内科 公式アカウント`: the channel an identity came in on, in words.
pub async fn channel_label(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    lang: &str,
    channel_id: &str,
) -> anyhow::Result<String> {
    let ch = channels::by_id(conn, clinic, &ChannelId::from_db(channel_id.to_string())).await?;
    Ok(ch
        .map(|c| {
            let kind = text(lang, &format!("inbox.channel.{}", c.kind));
            format!("{kind} {}", c.name)
        })
        .unwrap_or_default())
}

/// One patient the proxy picker offers.
#[derive(serde::Serialize)]
pub struct Pick {
    pub id: String,
    pub name: String,
    pub kana: String,
    pub phone: String,
    pub birth_date: String,
}

/// Patients matching the staff's search (name, kana, phone, card number), this one left out.
pub async fn proxy_candidates(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    patient: &PatientId,
    q: &str,
) -> anyhow::Result<Vec<Pick>> {
    let query = ListQuery {
        q: Some(q.to_string()),
        limit: PICK + 1,
        ..ListQuery::default()
    };
    let rows = search::list(conn, clinic, &query).await?;
    Ok(rows
        .into_iter()
        .filter(|p| p.id != patient.as_str())
        .take(PICK as usize)
        .map(|p| Pick {
            name: display_name(&p.display_name),
            kana: p.kana.unwrap_or_default(),
            phone: p
                .phone
                .map(|ph| tsunagu_contacts::PhoneE164::from_db(ph).display())
                .unwrap_or_default(),
            birth_date: p.birth_date.unwrap_or_default(),
            id: p.id,
        })
        .collect())
}
