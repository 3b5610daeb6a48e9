//! Incoming message webhook.
use super::{field, required, ParseError};

/// An incoming SMS/MMS as Twilio posts it to the number's messaging webhook.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundSms {
    pub message_sid: String,
    /// E.164 sender.
    pub from: String,
    /// E.164 number of ours that received it.
    pub to: String,
    /// Text; empty for a media-only MMS.
    pub body: String,
    pub num_media: u32,
    /// `(MediaUrl{N}, MediaContentType{N})` for N in `0..num_media`.
    pub media: Vec<(String, String)>,
    /// Every form field as received, for the webhook event log.
    pub raw: Vec<(String, String)>,
}

/// Twilio doc: Messaging › Webhooks › "Twilio's request to your application"
/// (`MessageSid`, `From`, `To`, `Body`, `NumMedia`, `MediaUrl{N}`, `MediaContentType{N}`).
/// `SmsMessageSid`/`SmsSid` are accepted when `MessageSid` is absent.
pub fn parse(form: &[(String, String)]) -> Result<InboundSms, ParseError> {
    let message_sid = required(form, &["MessageSid", "SmsMessageSid", "SmsSid"])?;
    let from = required(form, &["From"])?;
    let to = required(form, &["To"])?;
    let body = field(form, "Body").unwrap_or_default().to_owned();
    let num_media = match field(form, "NumMedia") {
        None | Some("") => 0,
        Some(v) => v.trim().parse::<u32>().map_err(|_| ParseError::Invalid {
            field: "NumMedia".to_owned(),
            value: v.to_owned(),
        })?,
    };
    // Stops at the first missing item, so a bogus NumMedia cannot loop long.
    let mut media = Vec::new();
    for n in 0..num_media {
        let url = required(form, &[&format!("MediaUrl{n}")])?;
        let content_type = required(form, &[&format!("MediaContentType{n}")])?;
        media.push((url, content_type));
    }
    Ok(InboundSms {
        message_sid,
        from,
        to,
        body,
        num_media,
        media,
        raw: form.to_vec(),
    })
}
