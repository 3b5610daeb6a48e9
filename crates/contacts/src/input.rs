//! One path from raw text (a form, JSON, a CSV cell) to a checked change of a patient record,
//! collecting every refused field instead of stopping at the first.
use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::Deserialize;
use tsunagu_core::text::squeeze_spaces;
use tsunagu_core::Code;

use crate::fields::CustomField;
use crate::kana::{parse_channel, parse_language, parse_tag, split_tags};
use crate::{BirthDate, CardNumber, Email, FieldError, Invalid, Kana, PhoneE164, Sex};

/// Raw input. `None` leaves a field as it is; `Some("")` clears it (on create: not given).
#[derive(Clone, Debug, Default, Deserialize)]
pub struct PatientInput {
    pub name: Option<String>,
    pub kana: Option<String>,
    pub birth_date: Option<String>,
    pub sex: Option<String>,
    pub phone: Option<String>,
    pub email: Option<String>,
    pub card_number: Option<String>,
    pub language: Option<String>,
    pub preferred_channel: Option<String>,
    pub note: Option<String>,
    /// Replaces the tags. Each entry may itself list several, separated by `;` or `、`.
    pub tags: Option<Vec<String>>,
    /// Custom field key → value; blank clears. Keys not given stay as they are.
    #[serde(default)]
    pub fields: BTreeMap<String, String>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Create,
    Update,
}

/// A checked change: the outer `Option` is "change this", the inner one "to a value or cleared".
#[derive(Clone, Debug, Default)]
pub struct Changes {
    pub name: Option<String>,
    pub kana: Option<Option<Kana>>,
    pub birth_date: Option<Option<BirthDate>>,
    pub sex: Option<Sex>,
    pub phone: Option<Option<PhoneE164>>,
    pub email: Option<Option<Email>>,
    pub card_number: Option<Option<CardNumber>>,
    pub language: Option<Option<String>>,
    pub preferred_channel: Option<Option<String>>,
    pub note: Option<Option<String>>,
    pub tags: Option<Vec<String>>,
    /// Add `tags` to those the patient has instead of replacing them (CSV import).
    pub tags_add_only: bool,
    /// (field id, stored value or `None` to clear).
    pub fields: Vec<(String, Option<String>)>,
    /// How many event rules led to this change (0: a person, a flow, an import…): the
    /// `patient_tagged` event it sets off carries it, so rule chains are bounded.
    pub rule_depth: u8,
}

const MAX_TAGS: usize = 30;

/// Checks `input` against the clinic's custom fields. `today` (the clinic's date) refuses
/// birth dates in the future.
pub fn validate(
    input: &PatientInput,
    defs: &[CustomField],
    mode: Mode,
    today: NaiveDate,
) -> Result<Changes, Vec<FieldError>> {
    let mut errs = Vec::new();
    let mut c = Changes::default();
    match input.name.as_deref().map(squeeze_spaces) {
        Some(n) if n.is_empty() => errs.push(FieldError::from_invalid(
            "name",
            Invalid(Code::NameRequired),
        )),
        Some(n) if n.chars().count() > 100 => {
            errs.push(FieldError::from_invalid("name", Invalid(Code::TooLong)))
        }
        Some(n) => c.name = Some(n),
        None if mode == Mode::Create => errs.push(FieldError::from_invalid(
            "name",
            Invalid(Code::NameRequired),
        )),
        None => {}
    }
    c.kana = opt(&mut errs, "kana", &input.kana, Kana::parse);
    c.birth_date = opt(&mut errs, "birth_date", &input.birth_date, |s| {
        BirthDate::parse(s).and_then(|d| {
            if d.date() > today {
                Err(Invalid(Code::InvalidBirthDate))
            } else {
                Ok(d)
            }
        })
    });
    if let Some(s) = &input.sex {
        match Sex::parse(s) {
            Ok(sex) => c.sex = Some(sex),
            Err(e) => errs.push(FieldError::from_invalid("sex", e)),
        }
    }
    c.phone = opt(&mut errs, "phone", &input.phone, PhoneE164::parse);
    c.email = opt(&mut errs, "email", &input.email, Email::parse);
    c.card_number = opt(
        &mut errs,
        "card_number",
        &input.card_number,
        CardNumber::parse,
    );
    c.language = opt(&mut errs, "language", &input.language, parse_language);
    c.preferred_channel = opt(
        &mut errs,
        "preferred_channel",
        &input.preferred_channel,
        |s| parse_channel(s).map(str::to_string),
    );
    c.note = opt(&mut errs, "note", &input.note, |s| {
        if s.chars().count() > 2000 {
            Err(Invalid(Code::TooLong))
        } else {
            Ok(s.trim().to_string())
        }
    });
    if let Some(list) = &input.tags {
        c.tags = tags(&mut errs, list);
    }
    c.fields = custom_values(&mut errs, input, defs, mode);
    if errs.is_empty() {
        Ok(c)
    } else {
        Err(errs)
    }
}

/// An optional text field: blank clears it, anything else must parse.
fn opt<T>(
    errs: &mut Vec<FieldError>,
    field: &str,
    raw: &Option<String>,
    parse: impl Fn(&str) -> Result<T, Invalid>,
) -> Option<Option<T>> {
    let raw = raw.as_deref()?;
    if raw.trim().is_empty() {
        return Some(None);
    }
    match parse(raw) {
        Ok(v) => Some(Some(v)),
        Err(e) => {
            errs.push(FieldError::from_invalid(field, e));
            None
        }
    }
}

fn tags(errs: &mut Vec<FieldError>, list: &[String]) -> Option<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for t in list.iter().flat_map(|l| split_tags(l)) {
        match parse_tag(t) {
            Ok(t) if !out.contains(&t) => out.push(t),
            Ok(_) => {}
            Err(e) => {
                errs.push(FieldError::new(
                    "tags",
                    e.code(),
                    format!("{}: {t}", crate::message_for(e.code())),
                ));
                return None;
            }
        }
    }
    if out.len() > MAX_TAGS {
        errs.push(FieldError::from_invalid("tags", Invalid(Code::TooManyTags)));
        return None;
    }
    Some(out)
}

fn custom_values(
    errs: &mut Vec<FieldError>,
    input: &PatientInput,
    defs: &[CustomField],
    mode: Mode,
) -> Vec<(String, Option<String>)> {
    let mut out = Vec::new();
    for key in input
        .fields
        .keys()
        .filter(|k| !defs.iter().any(|d| &d.key == *k))
    {
        errs.push(FieldError::from_invalid(
            key.as_str(),
            Invalid(Code::UnknownField),
        ));
    }
    for def in defs {
        let value = match input.fields.get(&def.key) {
            Some(raw) => match def.check(raw) {
                Ok(v) => v,
                Err(e) => {
                    errs.push(FieldError::from_invalid(def.key.as_str(), e));
                    continue;
                }
            },
            // Not mentioned: required only when the record is new.
            None if mode == Mode::Create && def.is_required() => {
                errs.push(FieldError::from_invalid(
                    def.key.as_str(),
                    Invalid(Code::FieldRequired),
                ));
                continue;
            }
            None => continue,
        };
        if value.is_none() && def.is_required() {
            errs.push(FieldError::from_invalid(
                def.key.as_str(),
                Invalid(Code::FieldRequired),
            ));
            continue;
        }
        out.push((def.id.clone(), value));
    }
    out
}
