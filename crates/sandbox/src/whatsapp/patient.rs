//! The patient's side of the webhook driver: messages a user sends (text, image, replies,
//! reaction, location), each opening the 24-hour window and entering the chat before it is posted.
use serde_json::{json, Value};
use sha2::Sha256;

use super::http::wamid;
use super::state::ChatEntry;
use super::{Posted, WhatsAppSandbox};

impl WhatsAppSandbox {
    /// A text message from the user.
    pub async fn user_text(
        &self,
        phone: &str,
        wa_id: &str,
        name: &str,
        text: &str,
    ) -> anyhow::Result<Posted> {
        self.user_message(
            phone,
            wa_id,
            name,
            json!({ "type": "text", "text": { "body": text } }),
        )
        .await
    }

    /// An image from the user: stored as media (fetch it with the media id), sent as
    /// `image{id, mime_type, sha256}` (sha256 in base64, as in Meta's webhooks).
    pub async fn user_image(
        &self,
        phone: &str,
        wa_id: &str,
        name: &str,
        bytes: Vec<u8>,
        mime_type: &str,
        caption: Option<&str>,
    ) -> anyhow::Result<Posted> {
        use base64::{engine::general_purpose::STANDARD, Engine as _};
        use sha2::Digest;
        let sha = STANDARD.encode(Sha256::digest(&bytes));
        let id = self.add_media(bytes, mime_type);
        if let Some(m) = self.lock().media.get_mut(&id) {
            m.phone_number_id = Some(phone.to_owned());
        }
        let mut image = json!({ "id": id, "mime_type": mime_type, "sha256": sha });
        if let Some(c) = caption {
            image["caption"] = json!(c);
        }
        self.user_message(
            phone,
            wa_id,
            name,
            json!({ "type": "image", "image": image }),
        )
        .await
    }

    /// The user tapped a reply button of the business message `context_wamid`.
    pub async fn user_button_reply(
        &self,
        phone: &str,
        wa_id: &str,
        name: &str,
        context_wamid: &str,
        id: &str,
        title: &str,
    ) -> anyhow::Result<Posted> {
        let m = json!({ "type": "interactive", "context": self.context(phone, context_wamid),
                        "interactive": { "type": "button_reply", "button_reply": { "id": id, "title": title } } });
        self.user_message(phone, wa_id, name, m).await
    }

    /// The user picked a row of the list message `context_wamid`.
    #[allow(clippy::too_many_arguments)] // mirrors Meta's list_reply fields one to one
    pub async fn user_list_reply(
        &self,
        phone: &str,
        wa_id: &str,
        name: &str,
        context_wamid: &str,
        id: &str,
        title: &str,
        description: Option<&str>,
    ) -> anyhow::Result<Posted> {
        let mut reply = json!({ "id": id, "title": title });
        if let Some(d) = description {
            reply["description"] = json!(d);
        }
        let m = json!({ "type": "interactive", "context": self.context(phone, context_wamid),
                        "interactive": { "type": "list_reply", "list_reply": reply } });
        self.user_message(phone, wa_id, name, m).await
    }

    /// A reaction to `message_id`; an empty emoji removes it, as on WhatsApp.
    pub async fn user_reaction(
        &self,
        phone: &str,
        wa_id: &str,
        name: &str,
        message_id: &str,
        emoji: &str,
    ) -> anyhow::Result<Posted> {
        let m =
            json!({ "type": "reaction", "reaction": { "message_id": message_id, "emoji": emoji } });
        self.user_message(phone, wa_id, name, m).await
    }

    pub async fn user_location(
        &self,
        phone: &str,
        wa_id: &str,
        name: &str,
        latitude: f64,
        longitude: f64,
        place: Option<&str>,
    ) -> anyhow::Result<Posted> {
        let mut location = json!({ "latitude": latitude, "longitude": longitude });
        if let Some(p) = place {
            location["name"] = json!(p);
        }
        self.user_message(
            phone,
            wa_id,
            name,
            json!({ "type": "location", "location": location }),
        )
        .await
    }

    /// Any user message object (`type` + its object, `context`…): `from`, `id` and `timestamp`
    /// are filled in, the window opens and the chat records it, then it is posted.
    pub async fn user_message(
        &self,
        phone: &str,
        wa_id: &str,
        name: &str,
        mut message: Value,
    ) -> anyhow::Result<Posted> {
        let now = self.now();
        let id = wamid(wa_id);
        if let Some(obj) = message.as_object_mut() {
            obj.insert("from".into(), json!(wa_id));
            obj.insert("id".into(), json!(id));
            obj.insert("timestamp".into(), json!(now.timestamp().to_string()));
        }
        {
            let mut st = self.lock();
            if !st.users.iter().any(|u| u.wa_id == wa_id) {
                drop(st);
                self.add_user(wa_id, name);
                st = self.lock();
            }
            st.last_inbound
                .insert((phone.to_owned(), wa_id.to_owned()), now);
            let entry = ChatEntry {
                from: "user",
                at: now,
                wamid: id.clone(),
                message: message.clone(),
                status: None,
            };
            st.log_chat(phone, wa_id, entry);
        }
        let contacts = vec![json!({ "profile": { "name": name }, "wa_id": wa_id })];
        let body = self.envelope(phone, Some(contacts), Some(vec![message]), None)?;
        let mut posted = self.post(phone, body).await?;
        posted.wamid = Some(id);
        Ok(posted)
    }

    fn context(&self, phone: &str, context_wamid: &str) -> Value {
        let st = self.lock();
        let from = st
            .numbers
            .get(phone)
            .map(|n| n.display_phone_number.clone())
            .unwrap_or_default();
        json!({ "from": from, "id": context_wamid })
    }
}
