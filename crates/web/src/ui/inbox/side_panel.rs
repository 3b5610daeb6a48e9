//! The panel beside a conversation: who the patient is (record, verification, tags and fields),
//! where else they can be reached, their consent and earlier conversations; for a group chat,
//! who has written in it. Needs ReadPatients; the read is audited as `patient.read`, always on
//! a deliberate open and throttled on re-renders, like the conversation's own read.
use std::collections::HashMap;

use chrono::Datelike;
use serde::Serialize;
use tsunagu_channels::ChannelKind;
use tsunagu_contacts::patients::{self as records, PatientRecord};
use tsunagu_contacts::phone::display_name;
use tsunagu_contacts::search::conversations_of;
use tsunagu_contacts::{BirthDate, PhoneE164};
use tsunagu_core::{ConversationId, PatientId, Permission};
use tsunagu_inbox::reachability;
use tsunagu_store::conversations::Conversation;
use tsunagu_store::{channels, flag, patients};

use super::view::Zone;
use super::{audit_event, audit_throttled, conn, queries};
use crate::client_ip::ClientIp;
use crate::i18n::text;
use crate::ui::session::Staff;
use crate::{AppState, PageError};

mod consent_view;

#[derive(Debug, Serialize)]
pub struct Fact {
    label: String,
    value: String,
}

#[derive(Debug, Serialize)]
pub struct Reach {
    channel: String,
    kind_label: String,
    name: String,
    /// following | blocked | opted_out | bounced | unknown
    state: &'static str,
    words: String,
    /// WhatsApp and Messenger: the service window, in words.
    window: Option<String>,
    window_open: bool,
}

#[derive(Debug, Serialize)]
pub struct Earlier {
    href: String,
    channel: String,
    status: String,
    last_at: String,
}

#[derive(Debug, Serialize)]
pub struct PatientPanel {
    href: String,
    name: String,
    verified: bool,
    facts: Vec<Fact>,
    tags: Vec<String>,
    fields: Vec<Fact>,
    reach: Vec<Reach>,
    consent: Vec<consent_view::Row>,
    earlier: Vec<Earlier>,
}

#[derive(Debug, Serialize)]
pub struct Member {
    name: String,
    href: Option<String>,
}

/// One of: the patient, the group's members, or neither (a chat not yet tied to a patient).
#[derive(Debug, Default, Serialize)]
pub struct SidePanel {
    patient: Option<PatientPanel>,
    group: Option<Vec<Member>>,
}

/// The panel, or None for staff who may not read patient records.
pub async fn panel(
    state: &AppState,
    staff: &Staff,
    ip: &ClientIp,
    conv: &Conversation,
    patient_id: Option<&str>,
    first_view: bool,
) -> Result<Option<SidePanel>, PageError> {
    if !staff.can(Permission::ReadPatients) {
        return Ok(None);
    }
    let clinic = staff.clinic.clinic_id();
    let mut c = conn(state).await?;
    let chans: HashMap<String, (String, String)> = channels::list(&mut c, &clinic)
        .await?
        .into_iter()
        .map(|ch| (ch.id, (ch.kind, ch.name)))
        .collect();
    if conv.kind != "direct" {
        let conv_id = ConversationId::from_db(conv.id.clone());
        let members = queries::group_members(&mut c, &clinic, &conv_id).await?;
        let group = members
            .into_iter()
            .filter_map(|m| {
                let name = [m.name, m.fallback]
                    .into_iter()
                    .flatten()
                    .find(|n| !n.trim().is_empty())?;
                Some(Member {
                    name: display_name(&name),
                    href: m.patient_id.map(|p| format!("/app/patients/{p}")),
                })
            })
            .collect();
        return Ok(Some(SidePanel {
            group: Some(group),
            ..Default::default()
        }));
    }
    let Some(id) = patient_id.and_then(|p| PatientId::parse(p).ok()) else {
        return Ok(Some(SidePanel::default()));
    };
    let Some(record) = records::get(&mut c, &clinic, &id).await? else {
        return Ok(Some(SidePanel::default()));
    };
    let idents = patients::identities_of(&mut c, &clinic, &id).await?;
    let convs = conversations_of(&mut c, &clinic, &id).await?;
    let consent = consent_view::rows(&mut c, staff.lang, &clinic, &id, &chans).await?;
    drop(c);
    let subjects = [id.as_str()];
    if first_view {
        audit_event(state, staff, ip, "patient.read", "patient", &subjects).await?;
    } else {
        audit_throttled(state, staff, ip, "patient.read", "patient", &subjects).await?;
    }

    let lang = staff.lang;
    let zone = Zone::of(&staff.clinic);
    let now = state.now_ms();
    let channel_name = |cid: &str| chans.get(cid).map(|(_, n)| n.clone()).unwrap_or_default();
    let kind_label = |cid: &str| {
        chans
            .get(cid)
            .map(|(k, _)| text(lang, &format!("inbox.channel.{k}")))
            .unwrap_or_default()
    };
    let reach = idents
        .iter()
        .map(|i| {
            let kind = chans.get(&i.channel_id).map(|(k, _)| k.as_str());
            let r = kind
                .and_then(ChannelKind::parse)
                .map(|k| reachability::describe(k, i, now));
            let state = r.as_ref().map_or("unknown", |r| r.state);
            let window = r
                .as_ref()
                .and_then(|r| match (r.window_open, r.window_closes_at) {
                    (Some(true), Some(t)) => Some(
                        text(lang, "patients.reach.window_open")
                            .replace("{time}", &zone.long_label(lang, t)),
                    ),
                    (Some(_), _) => Some(text(lang, "patients.reach.window_closed")),
                    _ => None,
                });
            Reach {
                channel: channel_name(&i.channel_id),
                kind_label: kind_label(&i.channel_id),
                name: i
                    .display_name
                    .as_deref()
                    .map(display_name)
                    .unwrap_or_default(),
                state,
                words: reach_words(lang, kind, state),
                window_open: r.as_ref().and_then(|r| r.window_open) == Some(true),
                window,
            }
        })
        .collect();
    let earlier = convs
        .iter()
        .filter(|e| e.id != conv.id)
        .map(|e| Earlier {
            href: format!("/app/conversations/{}", e.id),
            channel: format!(
                "{} {}",
                kind_label(&e.channel_id),
                channel_name(&e.channel_id)
            )
            .trim()
            .to_string(),
            status: text(lang, &format!("patients.conv_status.{}", e.status)),
            last_at: zone.long_label(lang, e.last_message_at),
        })
        .collect();
    // The clinic's own date, for the age.
    let today =
        chrono::NaiveDate::parse_from_str(&zone.date_time(now).0, "%Y-%m-%d").unwrap_or_default();
    Ok(Some(SidePanel {
        patient: Some(PatientPanel {
            href: format!("/app/patients/{id}"),
            name: display_name(&record.patient.display_name),
            verified: !flag(record.patient.provisional),
            facts: facts(lang, &record, today),
            tags: record.tags.clone(),
            fields: record
                .fields
                .iter()
                .filter_map(|f| {
                    let v = f.value.clone().filter(|v| !v.trim().is_empty())?;
                    Some(Fact {
                        label: f.field.label(lang).to_string(),
                        value: v,
                    })
                })
                .collect(),
            reach,
            consent,
            earlier,
        }),
        group: None,
    }))
}

/// A state in the provider's own words where the catalog has them (LINE's 友だち).
fn reach_words(lang: &str, kind: Option<&str>, state: &str) -> String {
    if let Some(kind) = kind {
        let key = format!("patients.reach.{kind}.{state}");
        let words = text(lang, &key);
        if words != key {
            return words;
        }
    }
    text(lang, &format!("patients.reach.{state}"))
}

/// The record's facts that are filled in, in the order reception asks for them.
fn facts(lang: &str, r: &PatientRecord, today: chrono::NaiveDate) -> Vec<Fact> {
    let p = &r.patient;
    let birth = p
        .birth_date
        .as_deref()
        .and_then(|d| BirthDate::parse(d).ok())
        .map(|d| {
            let age = age_on(d.date(), today);
            let age = text(lang, "panel.age").replace("{age}", &age.to_string());
            if lang == "ja" {
                format!("{}（{}）{age}", d.iso(), d.wareki())
            } else {
                format!("{} {age}", d.iso())
            }
        });
    let rows = [
        ("kana", p.kana.clone()),
        ("birth_date", birth),
        (
            "phone",
            p.phone.clone().map(|ph| PhoneE164::from_db(ph).display()),
        ),
        ("email", p.email.clone()),
        (
            "language",
            p.language
                .as_deref()
                .map(|c| crate::ui::patients::language_name(lang, c)),
        ),
    ];
    rows.into_iter()
        .filter_map(|(k, v)| {
            Some(Fact {
                label: text(lang, &format!("patients.field.{k}")),
                value: v.filter(|v| !v.trim().is_empty())?,
            })
        })
        .collect()
}

/// Whole years from birth to `today` (a birthday not yet reached this year does not count).
fn age_on(birth: chrono::NaiveDate, today: chrono::NaiveDate) -> i32 {
    let before_birthday = (today.month(), today.day()) < (birth.month(), birth.day());
    today.year() - birth.year() - i32::from(before_birthday)
}

#[cfg(test)]
mod tests {
    use super::age_on;
    use chrono::NaiveDate;

    #[test]
    fn age_counts_a_birthday_only_once_reached() {
        let d = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        assert_eq!(age_on(d(1980, 4, 1), d(2026, 3, 31)), 45);
        assert_eq!(age_on(d(1980, 4, 1), d(2026, 4, 1)), 46);
        assert_eq!(age_on(d(2000, 2, 29), d(2026, 2, 28)), 25);
    }
}
