//! An audit row's subjects as staff read them: patients and staff by name, a conversation by
//! its patient's name, anything else as what it is (a message, a template…); never a raw id.
use std::collections::HashMap;

use serde::Serialize;
use sqlx::AnyConnection;
use tsunagu_core::{ClinicId, ConversationId, PatientId};
use tsunagu_store::{conversations, patients};

use crate::i18n::text;

/// At most this many subjects are named on one row; the rest are counted.
const SHOWN: usize = 5;

#[derive(Clone, Debug, Serialize)]
pub struct Subject {
    pub label: String,
    pub href: Option<String>,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Subjects {
    /// 患者, 会話, …
    pub kind: String,
    pub named: Vec<Subject>,
    /// Subjects beyond those named (`ほか 3 件`), or every one of a kind that has no name.
    pub more: usize,
}

/// Names looked up once per page.
#[derive(Default)]
pub struct Resolver {
    patients: HashMap<String, Option<String>>,
    conversations: HashMap<String, Option<(String, String)>>,
}

impl Resolver {
    async fn patient(
        &mut self,
        conn: &mut AnyConnection,
        clinic: &ClinicId,
        id: &str,
    ) -> anyhow::Result<Option<String>> {
        if let Some(n) = self.patients.get(id) {
            return Ok(n.clone());
        }
        let name = match PatientId::parse(id) {
            Ok(pid) => patients::by_id(conn, clinic, &pid)
                .await?
                .map(|p| tsunagu_contacts::phone::display_name(&p.display_name)),
            Err(_) => None,
        };
        self.patients.insert(id.to_string(), name.clone());
        Ok(name)
    }

    /// A conversation by its patient's name (the id of the patient for the link).
    async fn conversation(
        &mut self,
        conn: &mut AnyConnection,
        clinic: &ClinicId,
        id: &str,
    ) -> anyhow::Result<Option<(String, String)>> {
        if let Some(c) = self.conversations.get(id) {
            return Ok(c.clone());
        }
        let conv = match ConversationId::parse(id) {
            Ok(cid) => conversations::by_id(conn, clinic, &cid).await?,
            Err(_) => None,
        };
        let named = match conv.and_then(|c| c.patient_id) {
            Some(p) => self.patient(conn, clinic, &p).await?.map(|n| (n, p)),
            None => None,
        };
        self.conversations.insert(id.to_string(), named.clone());
        Ok(named)
    }

    pub async fn subjects(
        &mut self,
        conn: &mut AnyConnection,
        clinic: &ClinicId,
        lang: &str,
        staff: &HashMap<String, String>,
        kind: Option<&str>,
        ids: &[String],
    ) -> anyhow::Result<Subjects> {
        let Some(kind) = kind else {
            return Ok(Subjects::default());
        };
        let key = format!("audit.subject.{kind}");
        let label = match text(lang, &key) {
            l if l == key => text(lang, "audit.subject.other"),
            l => l,
        };
        let mut out = Subjects {
            kind: label,
            ..Subjects::default()
        };
        for id in ids.iter().take(SHOWN) {
            let named = match kind {
                "patient" => self.patient(conn, clinic, id).await?.map(|n| Subject {
                    label: n,
                    href: Some(format!("/app/patients/{id}")),
                }),
                "conversation" => {
                    self.conversation(conn, clinic, id)
                        .await?
                        .map(|(n, _)| Subject {
                            label: n,
                            href: Some(format!("/app/conversations/{id}")),
                        })
                }
                "staff" => staff.get(id).map(|n| Subject {
                    label: n.clone(),
                    href: None,
                }),
                _ => None,
            };
            // A conversation's read names its patient too: shown once, by name.
            let named = match (named, kind) {
                (None, "conversation") => match self.patient(conn, clinic, id).await? {
                    Some(n) if out.named.iter().any(|s| s.label == n) => continue,
                    n => n.map(|label| Subject {
                        label,
                        href: Some(format!("/app/patients/{id}")),
                    }),
                },
                (n, _) => n,
            };
            match named {
                Some(s) => out.named.push(s),
                // Gone (erased, merged) or a kind without a name: counted, not shown as an id.
                None => out.more += 1,
            }
        }
        out.more += ids.len().saturating_sub(SHOWN);
        Ok(out)
    }
}
