//! The User Profile API and the media store behind attachment URLs.
#![allow(clippy::result_large_err)] // the error is the HTTP answer
use std::collections::HashMap;

use axum::extract::{Path, Query, State as AxumState};
use axum::http::{header, HeaderMap};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde_json::{json, Map, Value};

use super::http::{
    authenticate, graph_error, json_response, no_such_object, unknown_version, valid_version,
};
use super::MessengerSandbox;

pub(crate) fn routes() -> Router<MessengerSandbox> {
    Router::new()
        .route("/attachments/{id}", get(attachment))
        .route("/{version}/{id}", get(profile))
}

/// Meta doc: Messenger Platform › "User Profile API" (`GET /{PSID}?fields=…`). Only the fields
/// asked for come back, with `id`; an unknown field is code 100 as on Graph.
async fn profile(
    AxumState(sb): AxumState<MessengerSandbox>,
    Path((version, psid)): Path<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let path = format!("/{version}/{psid}");
    if !valid_version(&version) {
        return unknown_version(&path);
    }
    let st = sb.lock();
    let page = match authenticate(&st, &headers, query.get("access_token").map(String::as_str)) {
        Ok(page) => page,
        Err(resp) => return resp,
    };
    let Some(user) = st.user(&page, &psid) else {
        return no_such_object("get", &psid);
    };
    let fields = query
        .get("fields")
        .map(String::as_str)
        .unwrap_or("first_name,last_name,profile_pic");
    let mut out = Map::new();
    for field in fields.split(',').map(str::trim).filter(|f| !f.is_empty()) {
        let value = match field {
            "id" => json!(user.psid),
            "first_name" => json!(user.first_name),
            "last_name" => json!(user.last_name),
            "name" => json!(format!("{} {}", user.first_name, user.last_name).trim()),
            "profile_pic" => user.profile_pic.clone().map_or(Value::Null, Value::String),
            other => {
                return graph_error(
                    400,
                    100,
                    None,
                    &format!(
                        "(#100) Tried accessing nonexisting field ({other}) on node type (User)"
                    ),
                );
            }
        };
        if !value.is_null() {
            out.insert(field.to_owned(), value);
        }
    }
    out.insert("id".to_owned(), json!(user.psid));
    json_response(200, Value::Object(out))
}

/// Media the driver attached to a person's message, public like Meta's CDN URLs.
async fn attachment(
    AxumState(sb): AxumState<MessengerSandbox>,
    Path(id): Path<String>,
) -> Response {
    let st = sb.lock();
    match st.media.get(&id) {
        Some(m) => (
            [(header::CONTENT_TYPE, m.content_type.clone())],
            m.bytes.clone(),
        )
            .into_response(),
        None => (axum::http::StatusCode::NOT_FOUND, "Not Found").into_response(),
    }
}
