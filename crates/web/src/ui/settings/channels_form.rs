//! The connect-a-channel form: one form per kind, its fields as the kind's adapter describes
//! them (`Adapter::setup_form`), read into the credentials JSON that `channel_setup::prepare`
//! checks (the same the API takes). What was typed comes back on a refusal, except the secrets
//! (password fields, and lists that hold tokens such as Messenger's page lines).
use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use tsunagu_channels::provider::setup::read_form;
use tsunagu_channels::provider::{FormField, Shape};
use tsunagu_channels::ChannelKind;
use tsunagu_core::Code;

use crate::i18n::text;

/// A submitted connect form: the fields every kind has, and its kind's own.
#[derive(Default, Deserialize)]
pub struct ConnectForm {
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub api_base_url: String,
    /// The kind's fields by name (and the CSRF token, which no kind reads).
    #[serde(flatten)]
    pub fields: BTreeMap<String, String>,
}

/// A refused form as shown again: only what is not secret.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Draft {
    pub kind: String,
    pub name: String,
    pub api_base_url: String,
    /// The kind's fields that are not secret, by name.
    pub fields: BTreeMap<String, String>,
}

impl ConnectForm {
    fn field(&self, name: &str) -> &str {
        self.fields.get(name).map_or("", String::as_str)
    }

    pub fn draft(&self) -> Draft {
        let form = ChannelKind::parse(&self.kind).map_or(&[][..], |k| k.adapter().setup_form());
        let fields = form
            .iter()
            .filter(|f| !f.secret)
            .map(|f| (f.name.to_string(), self.field(f.name).to_string()))
            .collect();
        Draft {
            kind: self.kind.clone(),
            name: self.name.clone(),
            api_base_url: self.api_base_url.clone(),
            fields,
        }
    }

    /// The credentials JSON for `kind`, or the refusal's code (`invalid_pages`: a page line
    /// without its access token).
    pub fn credentials(&self, kind: ChannelKind) -> Result<Value, Code> {
        read_form(kind.adapter().setup_form(), |name| self.field(name))
    }
}

/// One field of a kind's form as the template draws it.
#[derive(Serialize)]
pub struct FieldView {
    pub name: &'static str,
    pub label: String,
    /// password | text | lines
    pub input: &'static str,
    pub required: bool,
    pub numeric: bool,
    pub rows: u8,
    pub placeholder: Option<&'static str>,
    pub hint: Option<String>,
    /// What was typed, on a refused form of this kind (never a secret).
    pub value: String,
}

/// The fields of `kind`'s form in `lang`, filled from `draft` when it is this kind's.
pub fn fields(lang: &str, kind: ChannelKind, draft: &Draft) -> Vec<FieldView> {
    let mine = draft.kind == kind.as_str();
    kind.adapter()
        .setup_form()
        .iter()
        .map(|f| view(lang, f, mine.then_some(draft)))
        .collect()
}

fn view(lang: &str, f: &FormField, draft: Option<&Draft>) -> FieldView {
    let (input, numeric, rows) = match f.shape {
        Shape::Single { .. } if f.secret => ("password", false, 0),
        Shape::Single { numeric } => ("text", numeric, 0),
        Shape::Lines { rows, .. } => ("lines", false, rows),
    };
    let value = draft
        .filter(|_| !f.secret)
        .and_then(|d| d.fields.get(f.name))
        .cloned()
        .unwrap_or_default();
    FieldView {
        name: f.name,
        label: text(lang, &format!("channels.field.{}", f.name)),
        input,
        required: f.required,
        numeric,
        rows,
        placeholder: f.placeholder,
        hint: f
            .hint
            .then(|| text(lang, &format!("channels.field.{}_hint", f.name))),
        value,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(fields: &[(&str, &str)]) -> ConnectForm {
        ConnectForm {
            fields: fields
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            ..Default::default()
        }
    }

    #[test]
    fn whatsapp_lines_become_phone_numbers_with_their_display_number() {
        let f = form(&[(
            "phone_numbers",
            "106540352242922 +81 3-1234-5678\n\n  2200000001  ",
        )]);
        let c = f.credentials(ChannelKind::WhatsApp).unwrap_or_default();
        assert_eq!(c["phone_numbers"][0]["phone_number_id"], "106540352242922");
        assert_eq!(
            c["phone_numbers"][0]["display_phone_number"],
            "+81 3-1234-5678"
        );
        assert!(c["phone_numbers"][1]["display_phone_number"].is_null());
        assert!(c["waba_id"].is_null());
    }

    #[test]
    fn a_messenger_page_line_needs_its_token_and_may_name_the_page() {
        let f = form(&[("pages", "1234 EAAtoken さくら内科 公式")]);
        let c = f.credentials(ChannelKind::Messenger).unwrap_or_default();
        assert_eq!(c["pages"][0]["access_token"], "EAAtoken");
        assert_eq!(c["pages"][0]["name"], "さくら内科 公式");
        let bare = form(&[("pages", "1234")]);
        assert_eq!(
            bare.credentials(ChannelKind::Messenger).err(),
            Some(Code::InvalidPages)
        );
    }

    #[test]
    fn the_draft_keeps_no_secret() {
        for &kind in ChannelKind::ALL {
            let mut f = form(&[
                ("channel_secret", "s3cret"),
                ("auth_token", "tok"),
                ("pages", "1 EAAx"),
                ("app_secret", "app-s3cret"),
                ("account_sid", "AC1"),
            ]);
            f.kind = kind.as_str().into();
            let shown = serde_json::to_string(&f.draft()).unwrap_or_default();
            assert!(
                !shown.contains("s3cret") && !shown.contains("tok") && !shown.contains("EAAx"),
                "{shown}"
            );
            let views = serde_json::to_string(&fields("ja", kind, &f.draft())).unwrap_or_default();
            assert!(
                !views.contains("s3cret") && !views.contains("EAAx"),
                "{views}"
            );
        }
    }

    /// A provider's strings: its names, what its credentials need, its form's labels and hints.
    #[test]
    fn every_kind_has_its_words_in_the_catalogs() {
        for &kind in ChannelKind::ALL {
            let mut keys = vec![
                format!("channels.kind.{kind}"),
                format!("inbox.channel.{kind}"),
                format!("channels.credentials.{kind}"),
            ];
            for f in kind.adapter().setup_form() {
                keys.push(format!("channels.field.{}", f.name));
                if f.hint {
                    keys.push(format!("channels.field.{}_hint", f.name));
                }
            }
            for key in keys {
                assert_ne!(text("ja", &key), key, "{kind}: no words for {key}");
            }
        }
    }

    #[test]
    fn a_refused_form_shows_again_what_is_not_secret() {
        let mut f = form(&[
            ("account_sid", "AC1"),
            ("numbers", "090"),
            ("auth_token", "tok"),
        ]);
        f.kind = "sms".into();
        let views = fields("ja", ChannelKind::Sms, &f.draft());
        let value = |n: &str| views.iter().find(|v| v.name == n).map(|v| v.value.as_str());
        assert_eq!(value("account_sid"), Some("AC1"));
        assert_eq!(value("numbers"), Some("090"));
        assert_eq!(value("auth_token"), Some(""));
        let other = fields("ja", ChannelKind::Line, &f.draft());
        assert!(other.iter().all(|v| v.value.is_empty()));
    }
}
