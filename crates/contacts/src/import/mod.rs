//! CSV import with a dry run. `plan` reads the file and says, row by row, what would happen
//! (create, update by card number, or every reason the row is refused) and changes nothing;
//! `apply` writes a plan only when every row is valid, in one transaction.
mod apply;
pub mod read;

use std::collections::HashMap;

use chrono::NaiveDate;
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::AnyConnection;
use tsunagu_core::{ClinicId, Code};

use crate::fields::{self, CustomField};
use crate::input::{validate, Changes, Mode, PatientInput};
use crate::{CardNumber, FieldError};
pub use apply::{apply, Applied, ApplyError, Author};
use read::{Column, Std};

/// Files larger than this are refused before reading (about 50,000 patients).
pub const MAX_BYTES: usize = 10 * 1024 * 1024;
pub const MAX_ROWS: usize = 20_000;

/// Why a cell (or the whole file) was refused.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CellError {
    /// The column as written in the file's header (empty for the file or row as a whole).
    pub column: String,
    pub code: Code,
    pub message: String,
}

/// One data row of the file.
#[derive(Clone, Debug, Serialize)]
pub struct RowResult {
    /// The line of the file the row starts on (the header is line 1).
    pub line: u64,
    /// create | update | error
    pub action: &'static str,
    /// The record an `update` row changes (found by card number).
    pub patient_id: Option<String>,
    /// The name cell, to help staff find the row.
    pub name: String,
    pub errors: Vec<CellError>,
    #[serde(skip)]
    pub(crate) changes: Option<Changes>,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Summary {
    pub rows: usize,
    pub create: usize,
    pub update: usize,
    pub error: usize,
}

/// What importing the file would do.
#[derive(Clone, Debug, Serialize)]
pub struct ImportPlan {
    /// The encoding the file was read in (`UTF-8`, `Shift_JIS`, `UTF-16LE`).
    pub encoding: Option<&'static str>,
    /// Problems with the file as a whole: unreadable, an unknown or missing column.
    pub file_errors: Vec<CellError>,
    pub rows: Vec<RowResult>,
    pub summary: Summary,
    /// Names this exact plan: `apply` with it refuses if the file or the records changed since.
    pub token: String,
}

impl ImportPlan {
    /// Nothing refused: the plan may be applied.
    pub fn is_valid(&self) -> bool {
        self.file_errors.is_empty() && self.summary.error == 0
    }
}

fn file_error(code: Code, message: impl Into<String>) -> CellError {
    CellError {
        column: String::new(),
        code,
        message: message.into(),
    }
}

/// Reads `csv` against the clinic's records and fields and reports what importing it would do.
/// Writes nothing. `today` is the clinic's date (birth dates after it are refused).
pub async fn plan(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    csv: &[u8],
    today: NaiveDate,
) -> anyhow::Result<ImportPlan> {
    let defs = fields::list(conn, clinic).await?;
    let cards: Vec<(String, String)> = sqlx::query_as(
        "SELECT card_number, id FROM patients WHERE clinic_id = $1 AND card_number IS NOT NULL",
    )
    .bind(clinic.as_str())
    .fetch_all(&mut *conn)
    .await
    .map_err(anyhow::Error::from)?;
    let cards: HashMap<String, String> = cards.into_iter().collect();
    Ok(plan_with(csv, &defs, &cards, today))
}

fn plan_with(
    csv: &[u8],
    defs: &[CustomField],
    cards: &HashMap<String, String>,
    today: NaiveDate,
) -> ImportPlan {
    let mut p = ImportPlan {
        encoding: None,
        file_errors: Vec::new(),
        rows: Vec::new(),
        summary: Summary::default(),
        token: String::new(),
    };
    if csv.len() > MAX_BYTES {
        p.file_errors.push(file_error(
            Code::FileTooLarge,
            format!("At most {MAX_BYTES} bytes."),
        ));
    } else if let Some((text, enc)) = read::decode(csv) {
        p.encoding = Some(enc);
        match read::table(&text) {
            Ok(t) => plan_rows(&mut p, &t, defs, cards, today),
            Err((line, e)) => p
                .file_errors
                .push(file_error(Code::MalformedCsv, format!("Line {line}: {e}"))),
        }
    } else {
        p.file_errors.push(file_error(
            Code::UnreadableEncoding,
            "Save the file as CSV in UTF-8 or Shift_JIS.",
        ));
    }
    p.summary.rows = p.rows.len();
    p.token = token(csv, &p);
    p
}

fn plan_rows(
    p: &mut ImportPlan,
    t: &read::Table,
    defs: &[CustomField],
    cards: &HashMap<String, String>,
    today: NaiveDate,
) {
    let columns: Vec<Column> = t.header.iter().map(|h| read::column(h, defs)).collect();
    for (i, c) in columns.iter().enumerate() {
        let h = &t.header[i];
        if *c == Column::Unknown {
            p.file_errors.push(CellError {
                column: h.clone(),
                code: Code::UnknownColumn,
                message: format!("No record field or custom field is called {h:?}."),
            });
        } else if *c != Column::Blank && columns[..i].contains(c) {
            p.file_errors.push(CellError {
                column: h.clone(),
                code: Code::DuplicateColumn,
                message: format!("{h:?} names a field another column already names."),
            });
        }
    }
    if !columns.contains(&Column::Std(Std::Name)) {
        p.file_errors.push(CellError {
            column: "name".into(),
            code: Code::MissingColumn,
            message: "The file needs a name (氏名) column.".into(),
        });
    }
    if t.records.len() > MAX_ROWS {
        p.file_errors.push(file_error(
            Code::TooManyRows,
            format!("At most {MAX_ROWS} rows per file."),
        ));
        return;
    }
    let mut seen_cards: HashMap<String, u64> = HashMap::new();
    for (line, cells) in &t.records {
        let row = plan_row(
            *line,
            cells,
            &t.header,
            &columns,
            defs,
            cards,
            &mut seen_cards,
            today,
        );
        match row.action {
            "create" => p.summary.create += 1,
            "update" => p.summary.update += 1,
            _ => p.summary.error += 1,
        }
        p.rows.push(row);
    }
}

#[allow(clippy::too_many_arguments)] // one row needs the file's header, the clinic's fields and cards
fn plan_row(
    line: u64,
    cells: &[String],
    header: &[String],
    columns: &[Column],
    defs: &[CustomField],
    cards: &HashMap<String, String>,
    seen_cards: &mut HashMap<String, u64>,
    today: NaiveDate,
) -> RowResult {
    let mut input = PatientInput::default();
    for (i, col) in columns.iter().enumerate() {
        let Some(v) = cells.get(i).filter(|v| !v.is_empty()).cloned() else {
            continue;
        };
        match col {
            Column::Std(s) => {
                let slot = match s {
                    Std::Name => &mut input.name,
                    Std::Kana => &mut input.kana,
                    Std::BirthDate => &mut input.birth_date,
                    Std::Sex => &mut input.sex,
                    Std::Phone => &mut input.phone,
                    Std::Email => &mut input.email,
                    Std::CardNumber => &mut input.card_number,
                    Std::Language => &mut input.language,
                    Std::PreferredChannel => &mut input.preferred_channel,
                    Std::Note => &mut input.note,
                    Std::Tags => {
                        input.tags = Some(vec![v]);
                        continue;
                    }
                };
                *slot = Some(v);
            }
            Column::Custom(d) => {
                if let Some(def) = defs.get(*d) {
                    input.fields.insert(def.key.clone(), v);
                }
            }
            Column::Blank | Column::Unknown => {}
        }
    }
    let mut errors = Vec::new();
    let card = input
        .card_number
        .as_deref()
        .and_then(|c| CardNumber::parse(c).ok());
    let existing = card.as_ref().and_then(|c| cards.get(c.as_str())).cloned();
    if let Some(c) = &card {
        if let Some(first) = seen_cards.get(c.as_str()) {
            errors.push(CellError {
                column: column_name(header, columns, Column::Std(Std::CardNumber)),
                code: Code::DuplicateCardNumberInFile,
                message: format!("Line {first} has the same card number."),
            });
        } else {
            seen_cards.insert(c.as_str().to_string(), line);
        }
    }
    let mode = if existing.is_some() {
        Mode::Update
    } else {
        Mode::Create
    };
    let changes = match validate(&input, defs, mode, today) {
        Ok(mut c) => {
            c.tags_add_only = true;
            Some(c)
        }
        Err(errs) => {
            errors.extend(
                errs.into_iter()
                    .map(|e| cell_error(e, header, columns, defs)),
            );
            None
        }
    };
    let name = input.name.unwrap_or_default();
    let (action, changes) = match (errors.is_empty(), &existing) {
        (false, _) => ("error", None),
        (true, Some(_)) => ("update", changes),
        (true, None) => ("create", changes),
    };
    RowResult {
        line,
        action,
        patient_id: existing,
        name,
        errors,
        changes,
    }
}

/// The header text of the column that holds `col`, else the field name.
fn column_name(header: &[String], columns: &[Column], col: Column) -> String {
    columns
        .iter()
        .position(|c| *c == col)
        .and_then(|i| header.get(i).cloned())
        .unwrap_or_default()
}

fn cell_error(
    e: FieldError,
    header: &[String],
    columns: &[Column],
    defs: &[CustomField],
) -> CellError {
    let std = match e.field.as_str() {
        "name" => Some(Std::Name),
        "kana" => Some(Std::Kana),
        "birth_date" => Some(Std::BirthDate),
        "sex" => Some(Std::Sex),
        "phone" => Some(Std::Phone),
        "email" => Some(Std::Email),
        "card_number" => Some(Std::CardNumber),
        "language" => Some(Std::Language),
        "preferred_channel" => Some(Std::PreferredChannel),
        "note" => Some(Std::Note),
        "tags" => Some(Std::Tags),
        _ => None,
    };
    let col = std.map(Column::Std).or_else(|| {
        defs.iter()
            .position(|d| d.key == e.field)
            .map(Column::Custom)
    });
    let column = col
        .map(|c| column_name(header, columns, c))
        .filter(|c| !c.is_empty())
        .unwrap_or(e.field);
    CellError {
        column,
        code: e.code,
        message: e.message,
    }
}

/// A digest of the file and of what the plan would do to which record.
fn token(csv: &[u8], p: &ImportPlan) -> String {
    let mut h = Sha256::new();
    h.update(csv);
    for r in &p.rows {
        h.update(format!(
            "\n{}:{}:{}",
            r.line,
            r.action,
            r.patient_id.as_deref().unwrap_or("")
        ));
    }
    hex::encode(&h.finalize()[..16])
}

#[cfg(test)]
mod tests;
