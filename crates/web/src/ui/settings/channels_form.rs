//! The connect-a-channel form: one form per kind, read into the credentials JSON that
//! `channel_setup::prepare` checks (the same the API takes). What was typed comes back on a
//! refusal, except the secrets (and Messenger's page lines, which hold page tokens).
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tsunagu_channels::ChannelKind;

/// The fields of every kind's form; each kind reads its own.
#[derive(Default, Deserialize)]
pub struct ConnectForm {
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub api_base_url: String,
    // LINE
    #[serde(default)]
    pub channel_secret: String,
    #[serde(default)]
    pub channel_access_token: String,
    // WhatsApp and Messenger
    #[serde(default)]
    pub app_secret: String,
    #[serde(default)]
    pub verify_token: String,
    #[serde(default)]
    pub access_token: String,
    #[serde(default)]
    pub waba_id: String,
    /// `phone_number_id display` per line.
    #[serde(default)]
    pub phone_numbers: String,
    /// `page_id access_token name` per line.
    #[serde(default)]
    pub pages: String,
    // SMS (Twilio)
    #[serde(default)]
    pub account_sid: String,
    #[serde(default)]
    pub auth_token: String,
    /// One E.164 number per line.
    #[serde(default)]
    pub numbers: String,
    #[serde(default)]
    pub messaging_service_sid: String,
}

/// A refused form as shown again: only what is not secret.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Draft {
    pub kind: String,
    pub name: String,
    pub api_base_url: String,
    pub waba_id: String,
    pub phone_numbers: String,
    pub account_sid: String,
    pub numbers: String,
    pub messaging_service_sid: String,
}

impl ConnectForm {
    pub fn draft(&self) -> Draft {
        Draft {
            kind: self.kind.clone(),
            name: self.name.clone(),
            api_base_url: self.api_base_url.clone(),
            waba_id: self.waba_id.clone(),
            phone_numbers: self.phone_numbers.clone(),
            account_sid: self.account_sid.clone(),
            numbers: self.numbers.clone(),
            messaging_service_sid: self.messaging_service_sid.clone(),
        }
    }

    /// The credentials JSON for `kind`, or the error code (`invalid_pages`: a page line without
    /// its access token).
    pub fn credentials(&self, kind: ChannelKind) -> Result<Value, &'static str> {
        Ok(match kind {
            ChannelKind::Line => json!({
                "channel_secret": self.channel_secret,
                "channel_access_token": self.channel_access_token,
            }),
            ChannelKind::WhatsApp => {
                let numbers: Vec<Value> = lines(&self.phone_numbers)
                    .map(|l| {
                        let (id, display) = split_first(l);
                        json!({"phone_number_id": id, "display_phone_number": display})
                    })
                    .collect();
                json!({
                    "app_secret": self.app_secret,
                    "verify_token": self.verify_token,
                    "access_token": self.access_token,
                    "waba_id": optional(&self.waba_id),
                    "phone_numbers": numbers,
                })
            }
            ChannelKind::Messenger => {
                let mut pages = Vec::new();
                for l in lines(&self.pages) {
                    let (id, rest) = split_first(l);
                    let Some(rest) = rest else {
                        return Err("invalid_pages");
                    };
                    let (token, name) = split_first(&rest);
                    pages.push(json!({"page_id": id, "access_token": token, "name": name}));
                }
                json!({
                    "app_secret": self.app_secret,
                    "verify_token": self.verify_token,
                    "pages": pages,
                })
            }
            ChannelKind::Sms => json!({
                "account_sid": self.account_sid,
                "auth_token": self.auth_token,
                "numbers": lines(&self.numbers).collect::<Vec<_>>(),
                "messaging_service_sid": optional(&self.messaging_service_sid),
            }),
        })
    }
}

/// Non-blank lines, trimmed.
fn lines(text: &str) -> impl Iterator<Item = &str> {
    text.lines().map(str::trim).filter(|l| !l.is_empty())
}

/// The first word and the rest of the line (if any).
fn split_first(line: &str) -> (String, Option<String>) {
    match line.split_once(char::is_whitespace) {
        Some((first, rest)) => {
            let rest = rest.trim();
            (first.to_string(), (!rest.is_empty()).then(|| rest.into()))
        }
        None => (line.to_string(), None),
    }
}

fn optional(v: &str) -> Option<&str> {
    Some(v.trim()).filter(|v| !v.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whatsapp_lines_become_phone_numbers_with_their_display_number() {
        let f = ConnectForm {
            phone_numbers: "106540352242922 +81 3-1234-5678\n\n  2200000001  ".into(),
            ..Default::default()
        };
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
        let f = ConnectForm {
            pages: "1234 EAAtoken さくら内科 公式".into(),
            ..Default::default()
        };
        let c = f.credentials(ChannelKind::Messenger).unwrap_or_default();
        assert_eq!(c["pages"][0]["access_token"], "EAAtoken");
        assert_eq!(c["pages"][0]["name"], "さくら内科 公式");
        let bare = ConnectForm {
            pages: "1234".into(),
            ..Default::default()
        };
        assert_eq!(
            bare.credentials(ChannelKind::Messenger).err(),
            Some("invalid_pages")
        );
    }

    #[test]
    fn the_draft_keeps_no_secret() {
        let f = ConnectForm {
            kind: "line".into(),
            channel_secret: "s3cret".into(),
            auth_token: "tok".into(),
            pages: "1 EAAx".into(),
            ..Default::default()
        };
        let shown = serde_json::to_string(&f.draft()).unwrap_or_default();
        assert!(!shown.contains("s3cret") && !shown.contains("tok") && !shown.contains("EAAx"));
    }
}
