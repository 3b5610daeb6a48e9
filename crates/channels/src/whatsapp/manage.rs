//! The client's calls other than sends: inbound media (URL, then download with a size cap and
//! checksum) and message templates per WhatsApp Business Account.
use base64::{engine::general_purpose::STANDARD as BASE64, Engine as _};
use bytes::{Bytes, BytesMut};
use serde::Deserialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use super::client::{node, CallError, WhatsAppClient};

/// Larger than anything WhatsApp carries (documents up to 100 MB).
pub const MAX_MEDIA_BYTES: usize = 100 * 1024 * 1024;
/// A runaway `paging.next` chain stops here.
const MAX_TEMPLATE_PAGES: usize = 100;

/// Meta doc: Media › "Retrieve media URL". The URL lasts about 5 minutes.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct MediaInfo {
    pub url: String,
    pub mime_type: Option<String>,
    /// Hex (the media API) or base64 (webhooks); [`WhatsAppClient::download`] takes either.
    pub sha256: Option<String>,
    #[serde(default, deserialize_with = "number_or_string")]
    pub file_size: Option<u64>,
}

/// What to submit for review.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTemplate {
    /// Lowercase letters, digits and underscores.
    pub name: String,
    /// e.g. `ja`, `en_US`.
    pub language: String,
    /// MARKETING | UTILITY | AUTHENTICATION.
    pub category: String,
    /// With `{{1}}`, `{{2}}`… placeholders.
    pub body_text: String,
    /// One sample value per placeholder (Meta requires them for review).
    pub examples: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct CreatedTemplate {
    pub id: String,
    /// PENDING until reviewed (sometimes APPROVED at once).
    pub status: String,
    pub category: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateSummary {
    pub id: String,
    pub name: String,
    pub language: String,
    /// APPROVED | PENDING | REJECTED | PAUSED | DISABLED…
    pub status: String,
    pub category: String,
    pub body_text: String,
    /// How many `{{n}}` values a send must give.
    pub body_variables: usize,
    /// Why Meta rejected it (`PROMOTIONAL`, `INVALID_FORMAT`…); `NONE` and absent are `None`.
    pub rejected_reason: Option<String>,
}

fn number_or_string<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::Number(n)) => n.as_u64(),
        Some(Value::String(s)) => s.parse().ok(),
        _ => None,
    })
}

fn invalid(message: String) -> CallError {
    CallError::Invalid { message }
}

/// The distinct `{{n}}` placeholders in a template text.
pub fn body_variables(text: &str) -> usize {
    let mut seen: Vec<&str> = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else { break };
        let inner = after[..end].trim();
        if !inner.is_empty() && !seen.contains(&inner) {
            seen.push(inner);
        }
        rest = &after[end + 2..];
    }
    seen.len()
}

impl WhatsAppClient {
    /// Meta doc: Cloud API reference › Media › "Retrieve Media URL" (`GET /{Media-ID}`).
    pub async fn media_info(&self, media_id: &str) -> Result<MediaInfo, CallError> {
        let url = format!("{}/{}", self.base, node(media_id)?);
        let (_, _, body) = self.execute("media_info", self.http.get(url)).await?;
        serde_json::from_slice(&body)
            .map_err(|e| invalid(format!("unexpected media answer from WhatsApp: {e}")))
    }

    /// Meta doc: Media › "Download media": GET the URL with the same token. Refuses more than
    /// [`MAX_MEDIA_BYTES`] and, when `sha256` is given (hex or base64), a checksum mismatch.
    pub async fn download(
        &self,
        url: &str,
        sha256: Option<&str>,
    ) -> Result<(String, Bytes), CallError> {
        let mut resp =
            crate::outbound::send("whatsapp", "download", self.authorised(self.http.get(url)))
                .await
                .map_err(|e| {
                    CallError::from(crate::delivery::SendFailure::from_transport("WhatsApp", &e))
                })?;
        let status = resp.status();
        if !status.is_success() {
            let headers = resp.headers().clone();
            let body = resp.bytes().await.unwrap_or_default();
            return Err(super::client::classify(status, &headers, &body).into());
        }
        let too_big = || invalid(format!("media larger than {MAX_MEDIA_BYTES} bytes refused"));
        if resp
            .content_length()
            .is_some_and(|n| n > MAX_MEDIA_BYTES as u64)
        {
            return Err(too_big());
        }
        let content_type = resp
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("application/octet-stream")
            .to_owned();
        let mut buf = BytesMut::new();
        loop {
            let chunk = resp.chunk().await.map_err(|e| CallError::Retry {
                message: format!("media download from WhatsApp interrupted: {e}"),
                retry_after: None,
            })?;
            let Some(chunk) = chunk else { break };
            if buf.len() + chunk.len() > MAX_MEDIA_BYTES {
                return Err(too_big());
            }
            buf.extend_from_slice(&chunk);
        }
        let bytes = buf.freeze();
        if let Some(expected) = sha256.filter(|s| !s.trim().is_empty()) {
            let digest = Sha256::digest(&bytes);
            let matches = hex::decode(expected.trim()).ok().as_deref() == Some(&digest[..])
                || BASE64.decode(expected.trim()).ok().as_deref() == Some(&digest[..]);
            if !matches {
                return Err(invalid(format!(
                    "media checksum mismatch: expected {expected}, got {}",
                    hex::encode(digest)
                )));
            }
        }
        Ok((content_type, bytes))
    }

    /// Meta doc: Templates › "Create templates" (`POST /{WABA-ID}/message_templates`).
    pub async fn create_template(
        &self,
        waba_id: &str,
        template: &NewTemplate,
    ) -> Result<CreatedTemplate, CallError> {
        let expected = body_variables(&template.body_text);
        if expected != template.examples.len() {
            return Err(CallError::Rejected {
                status: 0,
                code: None,
                message: format!(
                    "request not sent: {expected} placeholders but {} example values",
                    template.examples.len()
                ),
            });
        }
        let mut body_component = json!({ "type": "BODY", "text": template.body_text });
        if expected > 0 {
            body_component["example"] = json!({ "body_text": [template.examples] });
        }
        let body = json!({
            "name": template.name,
            "language": template.language,
            "category": template.category,
            "components": [body_component],
        });
        let url = format!("{}/{}/message_templates", self.base, node(waba_id)?);
        let (_, _, answer) = self
            .execute("create_template", self.http.post(url).json(&body))
            .await?;
        serde_json::from_slice(&answer)
            .map_err(|e| invalid(format!("unexpected template answer from WhatsApp: {e}")))
    }

    /// Meta doc: Templates › "Get templates" (`GET /{WABA-ID}/message_templates`), following
    /// `paging.next` only on the same host, so the token never goes anywhere else.
    pub async fn list_templates(&self, waba_id: &str) -> Result<Vec<TemplateSummary>, CallError> {
        let mut next = Some(format!(
            "{}/{}/message_templates?limit=100",
            self.base,
            node(waba_id)?
        ));
        let mut out = Vec::new();
        for _ in 0..MAX_TEMPLATE_PAGES {
            let Some(url) = next.take() else { break };
            let (_, _, body) = self.execute("list_templates", self.http.get(&url)).await?;
            let page: Value = serde_json::from_slice(&body)
                .map_err(|e| invalid(format!("unexpected template list from WhatsApp: {e}")))?;
            for t in page["data"].as_array().into_iter().flatten() {
                out.push(summary(t));
            }
            next = page
                .pointer("/paging/next")
                .and_then(Value::as_str)
                .map(str::to_owned);
            if let Some(n) = &next {
                if !same_origin(&self.base, n) {
                    return Err(invalid(format!(
                        "template paging points to another host: {n}"
                    )));
                }
            }
        }
        Ok(out)
    }
}

fn summary(t: &Value) -> TemplateSummary {
    let s = |k: &str| t[k].as_str().unwrap_or_default().to_owned();
    let body_text = t["components"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| {
            c["type"]
                .as_str()
                .is_some_and(|k| k.eq_ignore_ascii_case("body"))
        })
        .and_then(|c| c["text"].as_str())
        .unwrap_or_default()
        .to_owned();
    TemplateSummary {
        id: s("id"),
        name: s("name"),
        language: s("language"),
        status: s("status"),
        category: s("category"),
        body_variables: body_variables(&body_text),
        body_text,
        rejected_reason: t["rejected_reason"]
            .as_str()
            .filter(|r| !r.is_empty() && *r != "NONE")
            .map(str::to_owned),
    }
}

fn same_origin(a: &str, b: &str) -> bool {
    match (url::Url::parse(a), url::Url::parse(b)) {
        (Ok(a), Ok(b)) => a.origin() == b.origin(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_are_counted_once_each() {
        assert_eq!(body_variables("こんにちは {{1}} さん、{{2}} に {{1}}"), 2);
        assert_eq!(body_variables("no variables"), 0);
    }

    #[test]
    fn paging_stays_on_the_api_host() {
        assert!(same_origin(
            "https://graph.facebook.com/v23.0",
            "https://graph.facebook.com/v23.0/1/message_templates?after=x"
        ));
        assert!(!same_origin(
            "https://graph.facebook.com/v23.0",
            "https://evil.example/v23.0/1"
        ));
    }
}
