//! Reading a clinic's CSV: the encoding (UTF-8 with or without BOM, UTF-16 with BOM, or the
//! Shift_JIS that Excel in Japan writes), the records with their line numbers, and which
//! column means what (headers in Japanese or English, custom fields by key or label).
use encoding_rs::{Encoding, SHIFT_JIS};
use tsunagu_core::text::search_form;

use crate::fields::CustomField;

/// A record field the import reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Std {
    Name,
    Kana,
    BirthDate,
    Sex,
    Phone,
    Email,
    CardNumber,
    Language,
    PreferredChannel,
    Note,
    Tags,
}

const ALIASES: [(Std, &[&str]); 11] = [
    (
        Std::Name,
        &[
            "name",
            "display_name",
            "氏名",
            "名前",
            "お名前",
            "患者名",
            "氏名(漢字)",
        ],
    ),
    (
        Std::Kana,
        &[
            "kana",
            "furigana",
            "フリガナ",
            "カナ",
            "氏名カナ",
            "カナ氏名",
            "ヨミガナ",
            "氏名(カナ)",
        ],
    ),
    (
        Std::BirthDate,
        &["birth_date", "birthday", "dob", "生年月日", "誕生日"],
    ),
    (Std::Sex, &["sex", "gender", "性別"]),
    (
        Std::Phone,
        &[
            "phone",
            "phone_number",
            "tel",
            "電話番号",
            "電話",
            "携帯電話",
            "携帯番号",
        ],
    ),
    (
        Std::Email,
        &["email", "mail", "メール", "メールアドレス", "eメール"],
    ),
    (
        Std::CardNumber,
        &[
            "card_number",
            "card",
            "診察券番号",
            "診察券",
            "患者番号",
            "カルテ番号",
        ],
    ),
    (Std::Language, &["language", "言語", "希望言語"]),
    (
        Std::PreferredChannel,
        &["preferred_channel", "channel", "連絡方法", "希望連絡方法"],
    ),
    (Std::Note, &["note", "notes", "メモ", "備考"]),
    (Std::Tags, &["tags", "tag", "タグ"]),
];

/// What a header cell names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Column {
    Std(Std),
    /// Index into the clinic's custom fields.
    Custom(usize),
    /// A blank header: the column is ignored.
    Blank,
    Unknown,
}

/// `e-mail`, `E_MAIL`, `Ｅメール` and `eメール` compare equal.
fn norm(h: &str) -> String {
    search_form(h)
        .chars()
        .filter(|c| !matches!(c, '_' | '-' | '・'))
        .collect()
}

pub fn column(header: &str, defs: &[CustomField]) -> Column {
    let n = norm(header);
    if n.is_empty() {
        return Column::Blank;
    }
    if let Some((std, _)) = ALIASES
        .iter()
        .find(|(_, names)| names.iter().any(|a| norm(a) == n))
    {
        return Column::Std(*std);
    }
    defs.iter()
        .position(|d| norm(&d.key) == n || norm(&d.label_ja) == n || norm(&d.label_en) == n)
        .map_or(Column::Unknown, Column::Custom)
}

/// The text of the file and the name of its encoding, or `None` when it is none we read.
pub fn decode(bytes: &[u8]) -> Option<(String, &'static str)> {
    if let Some((enc, bom)) = Encoding::for_bom(bytes) {
        let (text, bad) = enc.decode_without_bom_handling(bytes.get(bom..).unwrap_or_default());
        return (!bad).then(|| (text.into_owned(), enc.name()));
    }
    if let Ok(s) = std::str::from_utf8(bytes) {
        return Some((s.to_string(), "UTF-8"));
    }
    let (text, bad) = SHIFT_JIS.decode_without_bom_handling(bytes);
    (!bad).then(|| (text.into_owned(), SHIFT_JIS.name()))
}

/// The header and every non-blank record with the line it starts on.
pub struct Table {
    pub header: Vec<String>,
    pub records: Vec<(u64, Vec<String>)>,
}

/// Parses CSV text; the error carries the line of the first unreadable record.
pub fn table(text: &str) -> Result<Table, (u64, String)> {
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut header = None;
    let mut records = Vec::new();
    for rec in r.records() {
        let rec = rec.map_err(|e| (e.position().map_or(0, |p| p.line()), e.to_string()))?;
        let line = start_line(text, rec.position().map_or(0, |p| p.byte()));
        let cells: Vec<String> = rec.iter().map(|c| c.trim().to_string()).collect();
        if cells.iter().all(String::is_empty) {
            continue;
        }
        if header.is_none() {
            header = Some(cells);
        } else {
            records.push((line, cells));
        }
    }
    Ok(Table {
        header: header.unwrap_or_default(),
        records,
    })
}

/// The physical line a record starts on. The reader reports the position where it began
/// reading, before any blank lines it skipped, so those are stepped over here.
fn start_line(text: &str, byte: u64) -> u64 {
    let bytes = text.as_bytes();
    let mut at = usize::try_from(byte).unwrap_or(usize::MAX).min(bytes.len());
    while matches!(bytes.get(at), Some(b'\r' | b'\n')) {
        at += 1;
    }
    1 + bytes.iter().take(at).filter(|b| **b == b'\n').count() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn japanese_and_english_headers_name_the_same_columns() {
        assert_eq!(column("氏名", &[]), Column::Std(Std::Name));
        assert_eq!(column("ふりがな", &[]), Column::Std(Std::Kana));
        assert_eq!(column("E-Mail", &[]), Column::Std(Std::Email));
        assert_eq!(column("診察券番号", &[]), Column::Std(Std::CardNumber));
        assert_eq!(column("Birth Date", &[]), Column::Std(Std::BirthDate));
        assert_eq!(column("好きな色", &[]), Column::Unknown);
        assert_eq!(column(" ", &[]), Column::Blank);
    }

    #[test]
    fn shift_jis_and_utf8_with_bom_are_both_read() {
        let (sjis, _, _) = SHIFT_JIS.encode("氏名,電話番号\n山田,090\n");
        let (text, enc) = decode(&sjis).unwrap_or_default();
        assert_eq!(
            (text.as_str(), enc),
            ("氏名,電話番号\n山田,090\n", "Shift_JIS")
        );
        let bom = [b"\xEF\xBB\xBF".as_slice(), "氏名\n".as_bytes()].concat();
        assert_eq!(decode(&bom).map(|(t, _)| t).as_deref(), Some("氏名\n"));
        assert!(decode(b"\x82\xA0\xFF\xFF").is_none());
    }

    #[test]
    fn records_keep_their_line_numbers_and_blank_lines_are_skipped() {
        let t = table("name,phone\n\n山田,090\n\"改行\nあり\",1\n佐藤,2\n").unwrap_or(Table {
            header: vec![],
            records: vec![],
        });
        assert_eq!(t.header, ["name", "phone"]);
        let lines: Vec<u64> = t.records.iter().map(|(l, _)| *l).collect();
        assert_eq!(lines, [3, 4, 6]);
    }
}
