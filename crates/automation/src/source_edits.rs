//! Changing the clinic's inflow sources (流入経路), for the settings page and the API alike: a
//! name and tag checked once, on a channel of the clinic whose chat links can carry the
//! source's code; renaming (the code, and so printed posters, stay); removing with its counts; and
//! the CSV of daily counts staff open in a spreadsheet.
use anyhow::Context;
use sqlx::AnyConnection;
use tsunagu_core::{ClinicId, Code, Refusal};

use crate::sources::{Day, Source, MAX_NAME};

/// Channel kinds whose chat links can carry a source's code (prefilled words, Messenger's `ref`).
pub const KINDS: [&str; 4] = ["line", "whatsapp", "sms", "messenger"];
pub const MAX_TAG: usize = 30;

/// A source's name and tag as stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checked {
    pub name: String,
    pub tag: String,
}

/// The name (1–30 characters) and tag (empty: `流入:<name>`; cut to 30 characters).
pub fn check(name: &str, tag: &str) -> Result<Checked, Refusal> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME {
        return Err(Refusal::new(Code::InvalidInflowSource).detail("a name of 1 to 30 characters"));
    }
    let tag = match tag.trim() {
        "" => format!("流入:{name}"),
        t => t.chars().take(MAX_TAG).collect(),
    };
    Ok(Checked {
        name: name.to_string(),
        tag,
    })
}

/// The longest public address (a basic id, a number, a Page username).
pub const MAX_ADDRESS: usize = 40;

/// A channel's public address as its links use it, checked for its kind: LINE's basic id
/// (`@…`), a Messenger Page's username (letters, digits, dots; at least 5) or numeric id, a
/// WhatsApp or SMS number (at least 8 digits).
pub fn check_address(kind: &str, address: &str) -> Result<String, Refusal> {
    let address = address.trim();
    let valid = match kind {
        "line" => address.starts_with('@') && address.len() > 1,
        "messenger" => {
            address.chars().count() >= 5
                && address
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '.')
        }
        _ => address.chars().filter(|c| c.is_ascii_digit()).count() >= 8,
    };
    if !valid || address.chars().count() > MAX_ADDRESS {
        return Err(Refusal::new(Code::InvalidSourceAddress)
            .detail("LINE: @basic id; WhatsApp, SMS: the number; Messenger: the Page username")
            .arg("kind", kind));
    }
    Ok(address.to_string())
}

pub const MAX_WELCOME: usize = 500;

/// What a source sends who arrives through it (see `sources::Source`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Welcome {
    pub text: String,
    pub flow_id: Option<String>,
    pub every: bool,
}

/// The welcome as stored: text up to 500 characters, the flow a published, enabled flow of
/// the clinic (an empty id: none).
pub async fn check_welcome(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    text: &str,
    flow_id: Option<&str>,
    every: bool,
) -> anyhow::Result<Result<Welcome, Refusal>> {
    let text = text.trim();
    if text.chars().count() > MAX_WELCOME {
        let r =
            Refusal::new(Code::InvalidInflowSource).detail("a greeting of up to 500 characters");
        return Ok(Err(r));
    }
    let flow_id = flow_id.map(str::trim).filter(|f| !f.is_empty());
    if let Some(f) = flow_id {
        let flow = crate::flows::store::get(conn, clinic, f).await?;
        if !flow.is_some_and(|f| f.is_enabled() && f.published_version.is_some()) {
            let r = Refusal::new(Code::InvalidInflowSource)
                .detail("welcome_flow_id is not a published, enabled flow of this clinic");
            return Ok(Err(r));
        }
    }
    Ok(Ok(Welcome {
        text: text.to_string(),
        flow_id: flow_id.map(str::to_string),
        every,
    }))
}

/// Stores a source's welcome; `false` when it is not the clinic's.
pub async fn set_welcome(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    id: &str,
    w: &Welcome,
) -> anyhow::Result<bool> {
    let done = sqlx::query(
        "UPDATE inflow_sources SET welcome_text = $1, welcome_flow_id = $2, welcome_every = $3
         WHERE id = $4 AND clinic_id = $5",
    )
    .bind(&w.text)
    .bind(w.flow_id.as_deref())
    .bind(i64::from(w.every))
    .bind(id)
    .bind(clinic.as_str())
    .execute(conn)
    .await
    .context("storing an inflow source's welcome")?;
    Ok(done.rows_affected() == 1)
}

/// The channel's kind when it is the clinic's and can carry a source's link.
pub async fn channel_kind(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    channel: &str,
) -> anyhow::Result<Option<String>> {
    Ok(tsunagu_store::channels::list(conn, clinic)
        .await?
        .into_iter()
        .find(|c| c.id == channel && KINDS.contains(&c.kind.as_str()))
        .map(|c| c.kind))
}

/// Renames a source and changes its tag; `false` when it is not the clinic's.
pub async fn update(
    conn: &mut AnyConnection,
    clinic: &ClinicId,
    id: &str,
    c: &Checked,
) -> anyhow::Result<bool> {
    let done = sqlx::query(
        "UPDATE inflow_sources SET name = $1, tag = $2 WHERE id = $3 AND clinic_id = $4",
    )
    .bind(&c.name)
    .bind(&c.tag)
    .bind(id)
    .bind(clinic.as_str())
    .execute(conn)
    .await
    .context("changing an inflow source")?;
    Ok(done.rows_affected() == 1)
}

/// Removes a source with its scans and counts; `false` when it is not the clinic's. Tags it
/// gave patients stay; a message carrying its code no longer counts.
pub async fn delete(conn: &mut AnyConnection, clinic: &ClinicId, id: &str) -> anyhow::Result<bool> {
    for sql in [
        "DELETE FROM inflow_scans WHERE source_id = $1 AND clinic_id = $2",
        "DELETE FROM inflow_source_patients WHERE source_id = $1 AND clinic_id = $2",
    ] {
        sqlx::query(sql)
            .bind(id)
            .bind(clinic.as_str())
            .execute(&mut *conn)
            .await
            .context("deleting an inflow source's counts")?;
    }
    let done = sqlx::query("DELETE FROM inflow_sources WHERE id = $1 AND clinic_id = $2")
        .bind(id)
        .bind(clinic.as_str())
        .execute(conn)
        .await
        .context("deleting an inflow source")?;
    Ok(done.rows_affected() == 1)
}

/// The CSV (UTF-8 with the BOM Excel needs): `header`, then per day and source the patients
/// added and the messages. Counts only, no patient data.
pub fn csv(header: &str, all: &[Source], days: &[Day]) -> String {
    let mut csv = String::from("\u{FEFF}");
    csv.push_str(header);
    csv.push_str("\r\n");
    for d in days {
        let Some(s) = all.iter().find(|s| s.id == d.source_id) else {
            continue;
        };
        csv.push_str(&format!(
            "{},{},{},{},{}\r\n",
            d.date,
            field(&s.name),
            s.code,
            d.added,
            d.messages
        ));
    }
    csv
}

/// A CSV field, quoted; a leading formula character is neutralised for spreadsheets.
fn field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    format!("\"{}\"", s.replace('"', "\"\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_name_is_required_and_the_tag_defaults_to_the_name() {
        assert_eq!(check(" ", "").unwrap_err().code, Code::InvalidInflowSource);
        assert_eq!(
            check(&"あ".repeat(31), "").unwrap_err().code,
            Code::InvalidInflowSource
        );
        let c = check(" 待合室 ", "").unwrap();
        assert_eq!((c.name.as_str(), c.tag.as_str()), ("待合室", "流入:待合室"));
        assert_eq!(
            check("受付", &"た".repeat(40)).unwrap().tag.chars().count(),
            MAX_TAG
        );
    }

    #[test]
    fn each_kind_takes_the_address_its_links_open() {
        assert_eq!(check_address("line", " @sakura ").unwrap(), "@sakura");
        assert_eq!(
            check_address("messenger", "sakura.clinic").unwrap(),
            "sakura.clinic"
        );
        assert_eq!(
            check_address("sms", "+81 3-1234-5678").unwrap(),
            "+81 3-1234-5678"
        );
        for (kind, bad) in [
            ("line", "sakura"),
            ("line", "@"),
            ("messenger", "m.me/x"),
            ("messenger", "abc"),
            ("whatsapp", "0312"),
            ("sms", &"1".repeat(41)),
        ] {
            let r = check_address(kind, bad).unwrap_err();
            assert_eq!(r.code, Code::InvalidSourceAddress, "{kind} {bad}");
        }
    }

    #[test]
    fn a_formula_in_a_name_is_neutralised_in_the_csv() {
        let s = Source {
            id: "s1".into(),
            channel_id: "c".into(),
            name: "=HYPERLINK(\"x\")".into(),
            code: "S-ABCD".into(),
            tag: "t".into(),
            created_at: 0,
            welcome_text: String::new(),
            welcome_flow_id: None,
            welcome_every: 0,
        };
        let d = Day {
            date: chrono::NaiveDate::from_ymd_opt(2026, 12, 7).unwrap(),
            source_id: "s1".into(),
            added: 2,
            messages: 3,
        };
        let out = csv("date,source,code,added,messages", &[s], &[d]);
        assert!(out.starts_with('\u{FEFF}'));
        assert!(
            out.contains("2026-12-07,\"'=HYPERLINK(\"\"x\"\")\",S-ABCD,2,3\r\n"),
            "{out}"
        );
    }
}
