//! Media: `GET /{version}/{media_id}` (the download URL and checksum) and the lookaside download
//! itself, which needs the same Bearer token and expires after 5 minutes, as on Meta.
use std::collections::HashMap;

use axum::extract::{Path, Query, State as AxumState};
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use chrono::{DateTime, Utc};
use serde_json::json;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::http::{authenticate, check_version, json_response, no_such_object, GraphError};
use super::state::{FaultKind, State};
use super::WhatsAppSandbox;

/// Meta doc: Media › "Retrieve media URL": the URL is valid for 5 minutes.
const URL_TTL: chrono::Duration = chrono::Duration::minutes(5);
pub(crate) const LOOKASIDE: &str = "/lookaside/whatsapp_business/attachments/";

pub(crate) fn routes() -> Router<WhatsAppSandbox> {
    Router::new()
        .route("/{version}/{node}", get(info))
        .route(LOOKASIDE, get(download))
        .route(LOOKASIDE.trim_end_matches('/'), get(download))
}

/// Lower-case hex, as Meta gives `sha256` in the media info.
pub(crate) fn hex_sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Before/after faults and delays around a read, as for sends.
async fn faulted(
    sb: &WhatsAppSandbox,
    path: &str,
    answer: impl FnOnce(&mut State, DateTime<Utc>) -> Result<Response, GraphError>,
) -> Response {
    let now = sb.now();
    let (response, delay) = {
        let mut st = sb.lock();
        if let Some(FaultKind::Before {
            status,
            code,
            retry_after,
        }) = st.take_fault(path, true)
        {
            return GraphError::for_code(status, code)
                .retry_after(retry_after)
                .into_response();
        }
        let response = match answer(&mut st, now) {
            Ok(r) => r,
            Err(e) => return e.into_response(),
        };
        match st.take_fault(path, false) {
            Some(FaultKind::After) => (GraphError::for_code(500, 1).into_response(), None),
            Some(FaultKind::DelayAfter(d)) => (response, Some(d)),
            _ => (response, None),
        }
    };
    if let Some(d) = delay {
        tokio::time::sleep(d).await;
    }
    response
}

/// Meta doc: Cloud API reference › Media › "Retrieve Media URL".
async fn info(
    AxumState(sb): AxumState<WhatsAppSandbox>,
    Path((version, node)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let path = format!("/{version}/{node}");
    faulted(&sb, &path, |st, now| {
        check_version(&version)?;
        let number = authenticate(st, &headers)?;
        let phone = number.phone_number_id;
        let public = st.public_url.clone().unwrap_or_default();
        let Some(media) = st.media.get_mut(&node) else {
            return Err(no_such_object(&node, "get"));
        };
        let owned = media.phone_number_id.as_ref().is_none_or(|p| *p == phone);
        let asked = q.get("phone_number_id").is_none_or(|p| *p == phone);
        if !owned || !asked {
            return Err(no_such_object(&node, "get"));
        }
        let hash = Uuid::new_v4().simple().to_string();
        media.url_hash = Some((hash.clone(), now));
        let url = format!(
            "{public}{LOOKASIDE}?mid={node}&ext={}&hash={hash}",
            now.timestamp()
        );
        Ok(json_response(
            200,
            json!({
                "messaging_product": "whatsapp",
                "url": url,
                "mime_type": media.mime_type,
                "sha256": media.sha256,
                "file_size": media.bytes.len().to_string(),
                "id": node,
            }),
        ))
    })
    .await
}

/// Meta doc: Media › "Download media": GET the URL with the access token.
async fn download(
    AxumState(sb): AxumState<WhatsAppSandbox>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    faulted(&sb, LOOKASIDE, |st, now| {
        let number = authenticate(st, &headers)?;
        let mid = q.get("mid").cloned().unwrap_or_default();
        let hash = q.get("hash").cloned().unwrap_or_default();
        let gone = || GraphError::new(404, 100, "(#100) Media URL is invalid or has expired");
        let media = st.media.get(&mid).ok_or_else(gone)?;
        let fresh = media
            .url_hash
            .as_ref()
            .is_some_and(|(h, at)| *h == hash && now - *at < URL_TTL);
        let owned = media
            .phone_number_id
            .as_ref()
            .is_none_or(|p| *p == number.phone_number_id);
        if !fresh || !owned {
            return Err(gone());
        }
        let content_type = HeaderValue::from_str(&media.mime_type)
            .unwrap_or(HeaderValue::from_static("application/octet-stream"));
        Ok(([(header::CONTENT_TYPE, content_type)], media.bytes.clone()).into_response())
    })
    .await
}
