//! What a rule's conditions look at for one event, loaded once, and whether each holds.
use chrono::{DateTime, Timelike, Utc};
use sqlx::AnyConnection;
use tsunagu_calendar::Schedule;
use tsunagu_core::{ClinicId, PatientId};
use tsunagu_privacy::consent::{self, Purpose};
use tsunagu_store::conversations::Conversation;
use tsunagu_store::patients;

use super::Condition;
use crate::matching::Matcher;

/// The event's world as the conditions see it.
pub struct Facts {
    pub tags: Vec<String>,
    /// Custom field key and id → value.
    pub fields: Vec<(String, String, String)>,
    pub channel_id: Option<String>,
    pub text: Option<String>,
    pub now: DateTime<Utc>,
    pub schedule: Option<Schedule>,
    pub consent: Vec<consent::ConsentState>,
    pub verified: bool,
}

impl Facts {
    pub async fn load(
        conn: &mut AnyConnection,
        clinic: &ClinicId,
        patient: Option<&str>,
        conv: Option<&Conversation>,
        text: Option<String>,
        now_ms: i64,
    ) -> anyhow::Result<Facts> {
        let mut f = Facts {
            tags: vec![],
            fields: vec![],
            channel_id: conv.map(|c| c.channel_id.clone()),
            text,
            now: tsunagu_core::clock::from_ms(now_ms),
            schedule: crate::away::schedule(conn, clinic).await?,
            consent: vec![],
            verified: false,
        };
        let Some(patient) = patient.map(|p| PatientId::from_db(p.to_string())) else {
            return Ok(f);
        };
        if let Some(rec) = tsunagu_contacts::patients::get(conn, clinic, &patient).await? {
            f.tags = rec.tags;
            f.fields = rec
                .fields
                .into_iter()
                .filter_map(|v| Some((v.field.key, v.field.id, v.value?)))
                .collect();
        }
        f.consent = consent::current(conn, clinic, &patient).await?;
        let idents = patients::identities_of(conn, clinic, &patient).await?;
        let own = conv.and_then(|c| c.channel_identity_id.as_deref());
        f.verified = idents
            .iter()
            .any(|i| i.verified != 0 && own.is_none_or(|o| o == i.id));
        Ok(f)
    }

    fn consent_allows(&self, purpose: Purpose) -> bool {
        let on = |ch: Option<&str>| {
            self.consent
                .iter()
                .find(|s| s.purpose == purpose && s.channel_id.as_deref() == ch)
        };
        self.channel_id
            .as_deref()
            .and_then(|c| on(Some(c)))
            .or_else(|| on(None))
            .is_some_and(|s| s.status.allows())
    }

    fn local_minute(&self) -> u16 {
        let tz = self
            .schedule
            .as_ref()
            .map(|s| s.timezone)
            .unwrap_or(chrono_tz::Asia::Tokyo);
        let t = self.now.with_timezone(&tz);
        (t.hour() * 60 + t.minute()) as u16
    }

    pub fn holds(&self, c: &Condition) -> bool {
        match c {
            Condition::Tag { tag, has } => self.tags.contains(tag) == *has,
            Condition::Field { field, value } => self
                .fields
                .iter()
                .any(|(key, id, v)| (key == field || id == field) && v.trim() == value.trim()),
            Condition::Channel { channel_id } => self.channel_id.as_deref() == Some(channel_id),
            Condition::Text { mode, value } => {
                let Some(text) = &self.text else { return false };
                Matcher::new(*mode, std::slice::from_ref(value)).is_ok_and(|m| m.is_match(text))
            }
            Condition::Time { from, to } => {
                let m = self.local_minute();
                if from < to {
                    (*from..*to).contains(&m)
                } else {
                    m >= *from || m < *to
                }
            }
            // A clinic without a calendar counts as open (as the away message does).
            Condition::Open { open } => {
                self.schedule.as_ref().is_none_or(|s| s.is_open(self.now)) == *open
            }
            Condition::Consent { purpose, allowed } => {
                Purpose::parse(purpose).is_some_and(|p| self.consent_allows(p) == *allowed)
            }
            Condition::Verified { verified } => self.verified == *verified,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::matching::MatchMode;

    fn facts(text: Option<&str>, hour: u32) -> Facts {
        use chrono::TimeZone;
        Facts {
            tags: vec!["発熱".into()],
            fields: vec![("insurance".into(), "f1".into(), "国保".into())],
            channel_id: Some("ch".into()),
            text: text.map(str::to_string),
            // 09:00 UTC = 18:00 in Tokyo (no calendar: Tokyo is assumed).
            now: Utc.with_ymd_and_hms(2026, 12, 7, hour, 0, 0).unwrap(),
            schedule: None,
            consent: vec![],
            verified: false,
        }
    }

    #[test]
    fn text_conditions_fold_width_and_kana_as_keyword_rules_do() {
        let c = Condition::Text {
            mode: MatchMode::Contains,
            value: "ちゅうしゃじょう".into(),
        };
        assert!(facts(Some("ﾁｭｳｼｬｼﾞｮｳはありますか"), 0).holds(&c));
        assert!(!facts(None, 0).holds(&c));
    }

    #[test]
    fn a_time_window_across_midnight_is_read_in_clinic_time() {
        let evening = Condition::Time {
            from: 17 * 60,
            to: 9 * 60,
        };
        assert!(facts(None, 9).holds(&evening)); // 18:00 JST
        assert!(!facts(None, 3).holds(&evening)); // 12:00 JST
    }

    #[test]
    fn tags_fields_and_unknown_consent() {
        let f = facts(None, 0);
        assert!(f.holds(&Condition::Tag {
            tag: "発熱".into(),
            has: true
        }));
        assert!(f.holds(&Condition::Tag {
            tag: "初診".into(),
            has: false
        }));
        let field = Condition::Field {
            field: "insurance".into(),
            value: "国保".into(),
        };
        assert!(f.holds(&field));
        let consent = Condition::Consent {
            purpose: "marketing".into(),
            allowed: false,
        };
        assert!(f.holds(&consent));
    }
}
