//! Rich menu aliases (the targets of `richmenuswitch` tabs) and batch control with its progress.
use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Path, Query, State as AxumState};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::Extension;
use serde_json::{json, Value};

use super::super::http::{error, invalid, json_response, RequestId};
use super::{
    call, check_schema, detail, menus, now_iso, parse_json, Batch, LineSandbox, NOT_FOUND,
};

const ALIAS_NOT_FOUND: &str = "richmenu alias not found";
const ALIAS_CONFLICT: &str = "conflict richmenu alias id";

pub(super) async fn alias_create(
    AxumState(sb): AxumState<LineSandbox>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    call(&sb, &headers, "/v2/bot/richmenu/alias", |st| {
        let body = match parse_json(&body)
            .and_then(|b| check_schema("CreateRichMenuAliasRequest", &b).map(|()| b))
        {
            Ok(b) => b,
            Err(r) => return r,
        };
        let alias = body["richMenuAliasId"].as_str().unwrap_or_default();
        let id = body["richMenuId"].as_str().unwrap_or_default();
        let m = menus(st);
        if let Err(r) = super::usable(m, id) {
            return r;
        }
        if m.aliases.contains_key(alias) {
            return error(400, ALIAS_CONFLICT);
        }
        m.aliases.insert(alias.to_owned(), id.to_owned());
        json_response(200, json!({}))
    })
}

pub(super) async fn alias_update(
    AxumState(sb): AxumState<LineSandbox>,
    Path(alias): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    call(&sb, &headers, "/v2/bot/richmenu/alias/{alias}", |st| {
        let body = match parse_json(&body)
            .and_then(|b| check_schema("UpdateRichMenuAliasRequest", &b).map(|()| b))
        {
            Ok(b) => b,
            Err(r) => return r,
        };
        let id = body["richMenuId"].as_str().unwrap_or_default();
        let m = menus(st);
        if let Err(r) = super::usable(m, id) {
            return r;
        }
        match m.aliases.get_mut(&alias) {
            Some(target) => {
                *target = id.to_owned();
                json_response(200, json!({}))
            }
            None => error(400, ALIAS_NOT_FOUND),
        }
    })
}

pub(super) async fn alias_get(
    AxumState(sb): AxumState<LineSandbox>,
    Path(alias): Path<String>,
    headers: HeaderMap,
) -> Response {
    call(
        &sb,
        &headers,
        "/v2/bot/richmenu/alias/{alias}",
        |st| match menus(st).aliases.get(&alias) {
            Some(id) => json_response(200, json!({ "richMenuAliasId": alias, "richMenuId": id })),
            None => error(404, ALIAS_NOT_FOUND),
        },
    )
}

pub(super) async fn alias_delete(
    AxumState(sb): AxumState<LineSandbox>,
    Path(alias): Path<String>,
    headers: HeaderMap,
) -> Response {
    call(
        &sb,
        &headers,
        "/v2/bot/richmenu/alias/{alias}",
        |st| match menus(st).aliases.remove(&alias) {
            Some(_) => json_response(200, json!({})),
            None => error(400, ALIAS_NOT_FOUND),
        },
    )
}

pub(super) async fn alias_list(
    AxumState(sb): AxumState<LineSandbox>,
    headers: HeaderMap,
) -> Response {
    call(&sb, &headers, "/v2/bot/richmenu/alias/list", |st| {
        let mut list: Vec<Value> = menus(st)
            .aliases
            .iter()
            .map(|(a, id)| json!({ "richMenuAliasId": a, "richMenuId": id }))
            .collect();
        list.sort_by(|a, b| {
            a["richMenuAliasId"]
                .as_str()
                .cmp(&b["richMenuAliasId"].as_str())
        });
        json_response(200, json!({ "aliases": list }))
    })
}

/// The operations of a batch body, checked: the spec, then every menu named must exist
/// (a `link` target also needs its image).
fn check_batch(m: &super::RichMenus, body: &Value) -> Result<(), Response> {
    check_schema("RichMenuBatchRequest", body)?;
    let ops = body["operations"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or(&[]);
    if ops.is_empty() {
        return Err(invalid(&[detail(
            "operations",
            "size must be between 1 and 1000",
        )]));
    }
    let mut problems = Vec::new();
    for (i, op) in ops.iter().enumerate() {
        for field in ["from", "to"] {
            if let Some(id) = op[field].as_str() {
                if !m.menus.contains_key(id) {
                    problems.push(detail(&format!("operations[{i}].{field}"), NOT_FOUND));
                }
            }
        }
        if let Some(to) = op["to"].as_str() {
            if m.menus.get(to).is_some_and(|x| x.image.is_none()) {
                problems.push(detail(&format!("operations[{i}].to"), super::NO_IMAGE));
            }
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(invalid(&problems))
    }
}

pub(super) async fn validate_batch(
    AxumState(sb): AxumState<LineSandbox>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    call(&sb, &headers, "/v2/bot/richmenu/validate/batch", |st| {
        let body = match parse_json(&body) {
            Ok(b) => b,
            Err(r) => return r,
        };
        match check_batch(menus(st), &body) {
            Ok(()) => json_response(200, json!({})),
            Err(r) => r,
        }
    })
}

/// Accepted with 202; the `X-Line-Request-Id` of this answer is the id progress is asked by.
pub(super) async fn batch(
    AxumState(sb): AxumState<LineSandbox>,
    Extension(RequestId(request_id)): Extension<RequestId>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let accepted = now_iso(&sb);
    call(&sb, &headers, "/v2/bot/richmenu/batch", |st| {
        let body = match parse_json(&body) {
            Ok(b) => b,
            Err(r) => return r,
        };
        let m = menus(st);
        if let Err(r) = check_batch(m, &body) {
            return r;
        }
        for op in body["operations"].as_array().into_iter().flatten() {
            let from = op["from"].as_str().unwrap_or_default();
            match (op["type"].as_str(), op["to"].as_str()) {
                (Some("link"), Some(to)) => {
                    for linked in m.links.values_mut().filter(|x| *x == from) {
                        *linked = to.to_owned();
                    }
                }
                (Some("unlink"), _) => m.links.retain(|_, x| x != from),
                (Some("unlinkAll"), _) => m.links.clear(),
                _ => {}
            }
        }
        m.batches.insert(
            request_id.clone(),
            Batch {
                accepted: accepted.clone(),
                asked: 0,
                phase: "succeeded",
            },
        );
        json_response(202, json!({}))
    })
}

pub(super) async fn batch_progress(
    AxumState(sb): AxumState<LineSandbox>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let now = now_iso(&sb);
    call(&sb, &headers, "/v2/bot/richmenu/progress/batch", |st| {
        let Some(id) = q.get("requestId") else {
            return error(400, "The request parameter 'requestId' is required.");
        };
        let Some(b) = menus(st).batches.get_mut(id) else {
            return error(404, "Not found");
        };
        b.asked += 1;
        // The first look finds it still running, as LINE's first answer usually does.
        if b.asked == 1 {
            json_response(
                200,
                json!({ "phase": "ongoing", "acceptedTime": b.accepted }),
            )
        } else {
            json_response(
                200,
                json!({ "phase": b.phase, "acceptedTime": b.accepted, "completedTime": now }),
            )
        }
    })
}
