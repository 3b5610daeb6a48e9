//! The non-text contents `POST /api/v1/conversations/{id}/messages` accepts besides `text` and
//! `template`: media by link, reply buttons and a WhatsApp list. Each channel's limits are
//! checked when queueing (`unsupported_content` with the reason otherwise).
use serde::{Deserialize, Serialize};
use tsunagu_inbox::reply::{Choice, Outgoing};
use utoipa::ToSchema;

/// A file the provider fetches from `url` (WhatsApp, Messenger; an MMS on SMS).
#[derive(Clone, Serialize, Deserialize, ToSchema)]
pub struct MediaSend {
    /// `image`, `video`, `audio` or `document`.
    #[schema(example = "image")]
    pub media: String,
    /// A public http(s) URL the provider can download.
    #[schema(example = "https://clinic.example/map.png")]
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub caption: Option<String>,
    /// Documents only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filename: Option<String>,
}

/// One reply button or list row; `id` comes back when the patient taps it.
#[derive(Clone, Serialize, Deserialize, ToSchema)]
pub struct ChoiceIn {
    #[schema(example = "slot_am")]
    pub id: String,
    #[schema(example = "午前")]
    pub title: String,
    /// List rows only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// A text with 1–3 reply buttons (WhatsApp); quick replies on Messenger.
#[derive(Clone, Serialize, Deserialize, ToSchema)]
pub struct ButtonsSend {
    #[schema(example = "ご希望の時間帯を選んでください。")]
    pub body: String,
    pub buttons: Vec<ChoiceIn>,
}

/// A WhatsApp list: a button that opens up to 10 sections (10 rows in all).
#[derive(Clone, Serialize, Deserialize, ToSchema)]
pub struct ListSend {
    pub body: String,
    /// The button's label (≤ 20 characters).
    pub button: String,
    pub sections: Vec<SectionIn>,
}

#[derive(Clone, Serialize, Deserialize, ToSchema)]
pub struct SectionIn {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    pub rows: Vec<ChoiceIn>,
}

fn choice(c: &ChoiceIn) -> Choice {
    Choice {
        id: c.id.clone(),
        title: c.title.clone(),
        description: c.description.clone(),
    }
}

impl MediaSend {
    pub fn outgoing(&self) -> Outgoing {
        Outgoing::media(
            &self.media,
            &self.url,
            self.caption.as_deref(),
            self.filename.as_deref(),
        )
    }
}

impl ButtonsSend {
    pub fn outgoing(&self) -> Outgoing {
        let buttons: Vec<Choice> = self.buttons.iter().map(choice).collect();
        Outgoing::buttons(&self.body, &buttons)
    }
}

impl ListSend {
    pub fn outgoing(&self) -> Outgoing {
        let sections: Vec<(Option<String>, Vec<Choice>)> = self
            .sections
            .iter()
            .map(|s| (s.title.clone(), s.rows.iter().map(choice).collect()))
            .collect();
        Outgoing::list(&self.body, &self.button, &sections)
    }
}
