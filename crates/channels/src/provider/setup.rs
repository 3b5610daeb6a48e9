//! Connecting a channel: what an administrator gives for a provider (the API's `credentials`,
//! or the settings page's form read by the fields below), checked by the provider's adapter and
//! split into secrets (stored encrypted) and the addresses the channel serves (stored in clear
//! for webhook routing). Each provider's input, checks and form live in `<kind>/setup.rs`.
use serde::de::DeserializeOwned;
use serde_json::Value;
use tsunagu_core::{Code, Refusal};

use super::Credentials;

/// A channel ready to store.
pub struct Setup {
    /// Its secrets, typed; stored encrypted (`Credentials::to_stored`).
    pub credentials: Credentials,
    /// The addresses it serves, in the stored form of `store::channels::Endpoints`.
    pub addresses: Value,
    /// The provider's API, when the administrator names no other (a sandbox).
    pub default_api_base: &'static str,
    /// A separate host for content downloads (LINE's `api-data.line.me`); `None`: the API base.
    pub default_data_api_base: Option<&'static str>,
}

/// One field of the settings page's connect form. Its label is `channels.field.<name>` in the
/// locale catalogs and its hint, when it has one, `channels.field.<name>_hint`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FormField {
    /// The form field, and the input's key it becomes.
    pub name: &'static str,
    pub shape: Shape,
    /// Never shown again: a password input, and not restored on a refused form.
    pub secret: bool,
    /// Must be filled in; an optional one left blank is absent (`null`) in the input.
    pub required: bool,
    /// Shown under the field as `channels.field.<name>_hint`.
    pub hint: bool,
    /// An example, as the provider's console shows it (not translated).
    pub placeholder: Option<&'static str>,
}

/// How a form field is typed and read into the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// One value on one line.
    Single {
        /// Digits only (the browser offers a number pad).
        numeric: bool,
    },
    /// One entry per line, blank lines skipped. Without `columns` each line is one string;
    /// with them each line is an object: one word per column, the last taking the rest of the
    /// line, a missing one `null`.
    Lines {
        rows: u8,
        columns: &'static [&'static str],
        /// How many leading columns each line must have, else refused with `incomplete`.
        needed: usize,
        incomplete: Code,
    },
}

impl FormField {
    /// A required secret typed on one line.
    pub const fn secret(name: &'static str) -> FormField {
        FormField {
            name,
            shape: Shape::Single { numeric: false },
            secret: true,
            required: true,
            hint: false,
            placeholder: None,
        }
    }

    /// Plain text on one line.
    pub const fn text(name: &'static str, required: bool) -> FormField {
        FormField {
            name,
            shape: Shape::Single { numeric: false },
            secret: false,
            required,
            hint: false,
            placeholder: None,
        }
    }
}

/// The input for `fields` from a submitted form (`value` gives a field's text, `""` when
/// absent), or the code a line without its needed columns is refused with.
pub fn read_form<'a>(fields: &[FormField], value: impl Fn(&str) -> &'a str) -> Result<Value, Code> {
    let mut input = serde_json::Map::new();
    for f in fields {
        let typed = value(f.name);
        let v = match f.shape {
            // Checked and trimmed by the adapter's `setup`, as the API's input is.
            Shape::Single { .. } if f.required => Value::from(typed),
            Shape::Single { .. } => optional(typed).map_or(Value::Null, Value::from),
            Shape::Lines { columns: [], .. } => lines(typed).collect::<Vec<_>>().into(),
            Shape::Lines {
                columns,
                needed,
                incomplete,
                ..
            } => {
                let mut entries = Vec::new();
                for line in lines(typed) {
                    let words = split(line, columns.len());
                    if words.len() < needed {
                        return Err(incomplete);
                    }
                    let entry: serde_json::Map<String, Value> = columns
                        .iter()
                        .enumerate()
                        .map(|(i, c)| {
                            (
                                c.to_string(),
                                words.get(i).map_or(Value::Null, |w| (*w).into()),
                            )
                        })
                        .collect();
                    entries.push(Value::Object(entry));
                }
                entries.into()
            }
        };
        input.insert(f.name.to_string(), v);
    }
    Ok(Value::Object(input))
}

/// Non-blank lines, trimmed.
fn lines(text: &str) -> impl Iterator<Item = &str> {
    text.lines().map(str::trim).filter(|l| !l.is_empty())
}

/// Up to `n` words of a trimmed line: each of the first `n - 1` one word, the last the rest.
fn split(line: &str, n: usize) -> Vec<&str> {
    let mut words = Vec::new();
    let mut rest = line;
    while !rest.is_empty() && words.len() + 1 < n {
        match rest.split_once(char::is_whitespace) {
            Some((word, more)) => {
                words.push(word);
                rest = more.trim();
            }
            None => {
                words.push(rest);
                rest = "";
            }
        }
    }
    if !rest.is_empty() {
        words.push(rest);
    }
    words
}

fn optional(v: &str) -> Option<&str> {
    Some(v.trim()).filter(|v| !v.is_empty())
}

/// `invalid_credentials` with the message the API answers (`detail`).
pub fn refused(message: impl Into<String>) -> Refusal {
    Refusal::new(Code::InvalidCredentials).detail(message)
}

/// The input read as a provider's, or refused naming `what` it needs.
pub fn parse<T: DeserializeOwned>(input: Value, what: &str) -> Result<T, Refusal> {
    serde_json::from_value(input).map_err(|_| refused(format!("credentials need {what}.")))
}

/// Refused unless every value has more than blanks.
pub fn need(values: &[&String], what: &str) -> Result<(), Refusal> {
    if values.iter().any(|v| v.trim().is_empty()) {
        return Err(refused(format!("credentials need non-empty {what}.")));
    }
    Ok(())
}

/// Some ASCII digits and nothing else (Meta's ids).
pub fn digits(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_digit())
}

/// Trimmed, `None` when blank.
pub fn trimmed(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_string()).filter(|s| !s.is_empty())
}

/// An input type's OpenAPI schema with the schemas it refers to, for the API document.
#[cfg(feature = "openapi")]
pub fn schemas_of<T: utoipa::ToSchema>(out: &mut Schemas) {
    out.push((T::name().into_owned(), T::schema()));
    T::schemas(out);
}

/// Named OpenAPI schemas, as `utoipa::ToSchema::schemas` collects them.
#[cfg(feature = "openapi")]
pub type Schemas = Vec<(
    String,
    utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>,
)>;

#[cfg(test)]
mod tests {
    use super::*;

    const PAGES: FormField = FormField {
        name: "pages",
        shape: Shape::Lines {
            rows: 3,
            columns: &["page_id", "access_token", "name"],
            needed: 2,
            incomplete: Code::InvalidPages,
        },
        secret: true,
        required: true,
        hint: true,
        placeholder: None,
    };

    #[test]
    fn a_line_gives_one_word_per_column_and_the_rest_to_the_last() {
        assert_eq!(
            split("1234 EAAx さくら 内科", 3),
            ["1234", "EAAx", "さくら 内科"]
        );
        assert_eq!(split("1234  +81 3-1234", 2), ["1234", "+81 3-1234"]);
        assert_eq!(split("1234", 2), ["1234"]);
        assert_eq!(split("+15005550006", 1), ["+15005550006"]);
    }

    #[test]
    fn a_form_reads_into_the_input_the_api_takes() {
        let form = [
            FormField::secret("app_secret"),
            FormField::text("waba_id", false),
            PAGES,
            FormField {
                name: "numbers",
                shape: Shape::Lines {
                    rows: 2,
                    columns: &[],
                    needed: 0,
                    incomplete: Code::InvalidCredentials,
                },
                ..FormField::text("numbers", true)
            },
        ];
        let typed = |name: &str| match name {
            "app_secret" => " s ",
            "pages" => "1 tok 本院\n\n 2 tok2 ",
            "numbers" => " +15005550006 \n",
            _ => "",
        };
        let input = read_form(&form, typed).unwrap_or_default();
        assert_eq!(
            input["app_secret"], " s ",
            "the adapter trims, as for the API"
        );
        assert!(input["waba_id"].is_null());
        assert_eq!(input["pages"][0]["name"], "本院");
        assert!(input["pages"][1]["name"].is_null());
        assert_eq!(input["pages"][1]["access_token"], "tok2");
        assert_eq!(input["numbers"], serde_json::json!(["+15005550006"]));
        let bare = |name: &str| if name == "pages" { "1234" } else { "" };
        assert_eq!(read_form(&form, bare).err(), Some(Code::InvalidPages));
    }
}
