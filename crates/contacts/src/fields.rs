//! Custom fields a clinic defines for its records (text, number, date, choice), and the check
//! of a value against its field.
use anyhow::Context;
use serde::{Deserialize, Serialize};
use sqlx::{AnyConnection, FromRow};
use tsunagu_core::text::{fold_width, squeeze_spaces};
use tsunagu_core::{new_id, ClinicId, Code};
use tsunagu_store::flag;

use crate::{BirthDate, FieldError, Invalid};

/// Names the CSV import reads as record columns: a custom field may not take one.
pub const RESERVED_KEYS: [&str; 13] = [
    "id",
    "name",
    "display_name",
    "kana",
    "birth_date",
    "sex",
    "phone",
    "email",
    "card_number",
    "language",
    "preferred_channel",
    "note",
    "tags",
];

#[derive(Clone, Debug, FromRow, Serialize)]
pub struct CustomField {
    pub id: String,
    pub clinic_id: String,
    pub key: String,
    pub label_ja: String,
    pub label_en: String,
    /// text | number | date | choice
    pub kind: String,
    /// JSON array of the choices (choice fields).
    pub choices: String,
    pub required: i64,
    pub position: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

impl CustomField {
    pub fn choice_list(&self) -> Vec<String> {
        serde_json::from_str(&self.choices).unwrap_or_default()
    }
    pub fn is_required(&self) -> bool {
        flag(self.required)
    }
    pub fn label(&self, lang: &str) -> &str {
        if lang == "ja" {
            &self.label_ja
        } else {
            &self.label_en
        }
    }

    /// The stored form of `raw`, or why it is refused. Blank is `None` (no value).
    pub fn check(&self, raw: &str) -> Result<Option<String>, Invalid> {
        let v = squeeze_spaces(&fold_width(raw));
        if v.is_empty() {
            return Ok(None);
        }
        let stored = match self.kind.as_str() {
            "number" => {
                let n: f64 = v
                    .replace(',', "")
                    .parse()
                    .map_err(|_| Invalid(Code::InvalidNumber))?;
                if !n.is_finite() {
                    return Err(Invalid(Code::InvalidNumber));
                }
                n.to_string()
            }
            "date" => BirthDate::parse(&v)
                .map_err(|_| Invalid(Code::InvalidDate))?
                .iso(),
            "choice" => self
                .choice_list()
                .into_iter()
                .find(|c| squeeze_spaces(&fold_width(c)) == v)
                .ok_or(Invalid(Code::InvalidChoice))?,
            _ if raw.trim().chars().count() > 1000 => return Err(Invalid(Code::TooLong)),
            _ => raw.trim().to_string(),
        };
        Ok(Some(stored))
    }
}

/// A new field as staff or the API describe it.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct NewField {
    pub key: String,
    pub label_ja: String,
    pub label_en: Option<String>,
    pub kind: String,
    #[serde(default)]
    pub choices: Vec<String>,
    #[serde(default)]
    pub required: bool,
    pub position: Option<i64>,
}

const COLS: &str = "id, clinic_id, key, label_ja, label_en, kind, choices, required, position, created_at, updated_at";

fn check_new(f: &NewField) -> Result<(), Vec<FieldError>> {
    let mut errs = Vec::new();
    let key_ok = f.key.len() <= 40
        && f.key.starts_with(|c: char| c.is_ascii_lowercase())
        && f.key
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if !key_ok {
        errs.push(FieldError::new(
            "key",
            Code::InvalidFieldKey,
            "A key is 1–40 of a–z, 0–9 and _, starting with a letter.",
        ));
    } else if RESERVED_KEYS.contains(&f.key.as_str()) {
        errs.push(FieldError::new(
            "key",
            Code::ReservedFieldKey,
            "This key names a standard record field.",
        ));
    }
    let label = f.label_ja.trim();
    if label.is_empty() || label.chars().count() > 100 {
        errs.push(FieldError::new(
            "label_ja",
            Code::InvalidLabel,
            "A label is 1–100 characters.",
        ));
    }
    if !["text", "number", "date", "choice"].contains(&f.kind.as_str()) {
        errs.push(FieldError::new(
            "kind",
            Code::InvalidFieldKind,
            "kind is text, number, date or choice.",
        ));
    }
    let choices_ok = f
        .choices
        .iter()
        .all(|c| !c.trim().is_empty() && c.chars().count() <= 100);
    if (f.kind == "choice" && f.choices.is_empty())
        || !choices_ok
        || (f.kind != "choice" && !f.choices.is_empty())
    {
        errs.push(FieldError::new(
            "choices",
            Code::InvalidChoices,
            "A choice field lists 1 or more non-empty choices; other kinds none.",
        ));
    }
    if errs.is_empty() {
        Ok(())
    } else {
        Err(errs)
    }
}

/// The clinic's fields in display order.
pub async fn list(conn: &mut AnyConnection, clinic: &ClinicId) -> anyhow::Result<Vec<CustomField>> {
    sqlx::query_as(&format!(
        "SELECT {COLS} FROM custom_fields WHERE clinic_id = $1 ORDER BY position, key"
    ))
    .bind(clinic.as_str())
    .fetch_all(conn)
    .await
    .context("listing the clinic's custom fields")
}

/// Defines a field. A key already in use is a `duplicate_field_key` error on `key`.
pub async fn create(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    f: &NewField,
    now_ms: i64,
) -> anyhow::Result<Result<CustomField, Vec<FieldError>>> {
    if let Err(errs) = check_new(f) {
        return Ok(Err(errs));
    }
    let taken: Option<(String,)> =
        sqlx::query_as("SELECT id FROM custom_fields WHERE clinic_id = $1 AND key = $2")
            .bind(clinic.as_str())
            .bind(&f.key)
            .fetch_optional(&mut *conn)
            .await
            .context("checking the custom field key")?;
    if taken.is_some() {
        return Ok(Err(vec![FieldError::new(
            "key",
            Code::DuplicateFieldKey,
            "This clinic already has a field with this key.",
        )]));
    }
    let position = match f.position {
        Some(p) => p,
        None => {
            let max: Option<i64> =
                sqlx::query_scalar("SELECT MAX(position) FROM custom_fields WHERE clinic_id = $1")
                    .bind(clinic.as_str())
                    .fetch_one(&mut *conn)
                    .await
                    .context("finding the last custom field position")?;
            max.map_or(0, |m| m + 1)
        }
    };
    let id = new_id();
    let label_ja = f.label_ja.trim();
    let label_en = f
        .label_en
        .as_deref()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .unwrap_or(label_ja);
    let choices: Vec<String> = f.choices.iter().map(|c| c.trim().to_string()).collect();
    sqlx::query(
        "INSERT INTO custom_fields (id, clinic_id, key, label_ja, label_en, kind, choices, required, position, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)",
    )
    .bind(&id)
    .bind(clinic.as_str())
    .bind(&f.key)
    .bind(label_ja)
    .bind(label_en)
    .bind(&f.kind)
    .bind(serde_json::to_string(&choices).context("writing the choices")?)
    .bind(i64::from(f.required))
    .bind(position)
    .bind(now_ms)
    .execute(&mut *conn)
    .await
    .context("creating the custom field")?;
    let field = sqlx::query_as(&format!("SELECT {COLS} FROM custom_fields WHERE id = $1"))
        .bind(&id)
        .fetch_one(conn)
        .await
        .context("reading back the custom field")?;
    Ok(Ok(field))
}

/// What may change on a field: key and kind stay, since stored values depend on them.
#[derive(Clone, Debug, Deserialize)]
pub struct FieldChanges {
    pub label_ja: String,
    pub label_en: String,
    pub required: bool,
    pub position: i64,
}

/// Renames, reorders or changes whether a field is required. False when there is no such field.
pub async fn update(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    id: &str,
    c: &FieldChanges,
    now_ms: i64,
) -> anyhow::Result<bool> {
    let (label_ja, label_en, required, position) =
        (&c.label_ja, &c.label_en, c.required, c.position);
    let r = sqlx::query(
        "UPDATE custom_fields SET label_ja = $1, label_en = $2, required = $3, position = $4, updated_at = $5
         WHERE id = $6 AND clinic_id = $7",
    )
    .bind(label_ja.trim())
    .bind(label_en.trim())
    .bind(i64::from(required))
    .bind(position)
    .bind(now_ms)
    .bind(id)
    .bind(clinic.as_str())
    .execute(conn)
    .await
    .context("updating the custom field")?;
    Ok(r.rows_affected() > 0)
}

/// Removes a field and every patient's value of it.
pub async fn delete(conn: &mut AnyConnection, clinic: &ClinicId, id: &str) -> anyhow::Result<bool> {
    sqlx::query("DELETE FROM patient_field_values WHERE field_id = $1 AND clinic_id = $2")
        .bind(id)
        .bind(clinic.as_str())
        .execute(&mut *conn)
        .await
        .context("deleting the custom field's values")?;
    let r = sqlx::query("DELETE FROM custom_fields WHERE id = $1 AND clinic_id = $2")
        .bind(id)
        .bind(clinic.as_str())
        .execute(conn)
        .await
        .context("deleting the custom field")?;
    Ok(r.rows_affected() > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(kind: &str, choices: &str) -> CustomField {
        CustomField {
            id: String::new(),
            clinic_id: String::new(),
            key: "k".into(),
            label_ja: "項目".into(),
            label_en: "Item".into(),
            kind: kind.into(),
            choices: choices.into(),
            required: 0,
            position: 0,
            created_at: 0,
            updated_at: 0,
        }
    }

    #[test]
    fn values_are_checked_and_stored_per_kind() {
        assert_eq!(
            field("number", "[]").check("１,２００.５"),
            Ok(Some("1200.5".into()))
        );
        assert_eq!(
            field("number", "[]").check("abc"),
            Err(Invalid(Code::InvalidNumber))
        );
        assert_eq!(
            field("date", "[]").check("R6.4.1"),
            Ok(Some("2024-04-01".into()))
        );
        assert_eq!(
            field("date", "[]").check("someday"),
            Err(Invalid(Code::InvalidDate))
        );
        let choice = field("choice", r#"["A型","B型"]"#);
        assert_eq!(choice.check("Ａ型"), Ok(Some("A型".into())));
        assert_eq!(choice.check("C型"), Err(Invalid(Code::InvalidChoice)));
        assert_eq!(field("text", "[]").check("  "), Ok(None));
    }

    #[test]
    fn a_field_key_must_be_snake_case_and_not_a_record_column() {
        let f = |key: &str| NewField {
            key: key.into(),
            label_ja: "血液型".into(),
            kind: "text".into(),
            ..Default::default()
        };
        assert!(check_new(&f("blood_type")).is_ok());
        assert!(check_new(&f("Blood")).is_err());
        assert!(check_new(&f("phone")).is_err());
    }
}
