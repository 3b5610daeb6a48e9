//! Message templates per WhatsApp Business Account: `GET/POST /{version}/{waba_id}/message_templates`,
//! the review helpers, and the template checks a send goes through.
use std::collections::HashMap;

use axum::extract::{Path, Query, State as AxumState};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use axum::{body::Bytes, Router};
use base64::{engine::general_purpose::URL_SAFE_NO_PAD as B64, Engine as _};
use serde_json::{json, Value};

use super::http::{
    authenticate, check_version, json_response, no_such_object, numeric_id, GraphError,
};
use super::state::State;
use super::{PhoneNumberConfig, Template, WhatsAppSandbox};

const CATEGORIES: [&str; 3] = ["MARKETING", "UTILITY", "AUTHENTICATION"];
/// Meta doc: Templates › "Template components" (body text up to 1,024 characters).
const MAX_BODY: usize = 1024;
const DEFAULT_PAGE: usize = 25;

pub(crate) fn routes() -> Router<WhatsAppSandbox> {
    Router::new().route(
        "/{version}/{node}/message_templates",
        get(list).post(create),
    )
}

impl WhatsAppSandbox {
    /// The WABA's templates, in creation order.
    pub fn templates(&self, waba_id: &str) -> Vec<Template> {
        let st = self.lock();
        st.templates
            .iter()
            .filter(|t| t.waba_id == waba_id)
            .cloned()
            .collect()
    }

    /// Adds a template directly (e.g. one already approved in Meta's manager).
    pub fn add_template(
        &self,
        waba_id: &str,
        name: &str,
        language: &str,
        body_text: &str,
        status: &str,
    ) {
        let mut st = self.lock();
        let id = numeric_id(st.next());
        st.templates.push(Template {
            id,
            waba_id: waba_id.to_owned(),
            name: name.to_owned(),
            language: language.to_owned(),
            category: "UTILITY".to_owned(),
            status: status.to_owned(),
            components: json!([{ "type": "BODY", "text": body_text }]),
            rejected_reason: None,
        });
    }

    /// Meta's review approved the template (every language version with that name).
    pub fn approve_template(&self, waba_id: &str, name: &str) {
        self.set_template_status(waba_id, name, "APPROVED", None);
    }

    pub fn reject_template(&self, waba_id: &str, name: &str, reason: &str) {
        self.set_template_status(waba_id, name, "REJECTED", Some(reason));
    }

    /// PAUSED / DISABLED and so on.
    pub fn set_template_status(
        &self,
        waba_id: &str,
        name: &str,
        status: &str,
        reason: Option<&str>,
    ) {
        for t in self.lock().templates.iter_mut() {
            if t.waba_id == waba_id && t.name == name {
                t.status = status.to_owned();
                t.rejected_reason = reason.map(str::to_owned);
            }
        }
    }
}

/// The BODY component's text.
pub(crate) fn body_text(components: &Value) -> String {
    components
        .as_array()
        .into_iter()
        .flatten()
        .find(|c| {
            c["type"]
                .as_str()
                .is_some_and(|t| t.eq_ignore_ascii_case("body"))
        })
        .and_then(|c| c["text"].as_str())
        .unwrap_or_default()
        .to_owned()
}

/// How many `{{n}}` variables a text has (the highest n), or why they are malformed.
pub(crate) fn variables(text: &str) -> Result<usize, String> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        let after = &rest[start + 2..];
        let end = after.find("}}").ok_or("an unclosed {{ in the body text")?;
        let n: usize = after[..end]
            .trim()
            .parse()
            .map_err(|_| format!("{{{{{}}}}} is not a positional variable", &after[..end]))?;
        found.push(n);
        rest = &after[end + 2..];
    }
    found.sort_unstable();
    found.dedup();
    if found.iter().enumerate().any(|(i, n)| *n != i + 1) {
        return Err("variables must be numbered {{1}}, {{2}}… without gaps".to_owned());
    }
    Ok(found.len())
}

/// A send of `template` (the request's template object): an approved template with this name
/// and language must exist, and the body parameters must match its variables.
pub(crate) fn check_send(st: &State, waba_id: &str, template: &Value) -> Result<(), GraphError> {
    let name = template["name"].as_str().unwrap_or_default();
    let code = template
        .pointer("/language/code")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let found = st.templates.iter().find(|t| {
        t.waba_id == waba_id && t.name == name && t.language == code && t.status == "APPROVED"
    });
    let Some(found) = found else {
        return Err(GraphError::for_code(404, 132001));
    };
    let expected = variables(&found.body_text()).unwrap_or(0);
    let given = template["components"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|c| {
            c["type"]
                .as_str()
                .is_some_and(|t| t.eq_ignore_ascii_case("body"))
        })
        .map(|c| c["parameters"].as_array().map_or(0, Vec::len))
        .sum::<usize>();
    if given != expected {
        return Err(GraphError::new(400, 132000, "(#132000) Number of parameters does not match the expected number of params")
            .details(format!("body: number of localizable_params ({given}) does not match the expected number of params ({expected})")));
    }
    Ok(())
}

fn owner(
    st: &State,
    version: &str,
    node: &str,
    headers: &HeaderMap,
    verb: &str,
) -> Result<PhoneNumberConfig, GraphError> {
    check_version(version)?;
    let number = authenticate(st, headers)?;
    if number.waba_id != node {
        return Err(no_such_object(node, verb));
    }
    Ok(number)
}

/// Meta doc: Templates › "Create and manage templates" (`POST /{WABA-ID}/message_templates`).
async fn create(
    AxumState(sb): AxumState<WhatsAppSandbox>,
    Path((version, node)): Path<(String, String)>,
    headers: HeaderMap,
    raw: Bytes,
) -> Response {
    let mut st = sb.lock();
    match create_in(&mut st, &version, &node, &headers, &raw) {
        Ok(body) => json_response(200, body),
        Err(e) => e.into_response(),
    }
}

fn create_in(
    st: &mut State,
    version: &str,
    node: &str,
    headers: &HeaderMap,
    raw: &[u8],
) -> Result<Value, GraphError> {
    owner(st, version, node, headers, "post")?;
    let body: Value = serde_json::from_slice(raw)
        .map_err(|e| GraphError::invalid(format!("Invalid JSON in request body: {e}")))?;
    let name = body["name"].as_str().unwrap_or_default();
    let language = body["language"].as_str().unwrap_or_default();
    let category = body["category"]
        .as_str()
        .unwrap_or_default()
        .to_ascii_uppercase();
    let name_ok = !name.is_empty()
        && name.len() <= 512
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if !name_ok {
        return Err(GraphError::invalid(
            "name: lowercase letters, digits and underscores only, at most 512",
        ));
    }
    if language.is_empty() {
        return Err(GraphError::invalid(
            "language: is required (e.g. ja, en_US)",
        ));
    }
    if !CATEGORIES.contains(&category.as_str()) {
        return Err(GraphError::invalid(
            "category: one of MARKETING, UTILITY, AUTHENTICATION",
        ));
    }
    let components = body["components"].clone();
    let text = body_text(&components);
    if text.is_empty() || text.chars().count() > MAX_BODY {
        return Err(GraphError::invalid(format!(
            "components: a BODY with 1 to {MAX_BODY} characters of text is required"
        )));
    }
    let n =
        variables(&text).map_err(|e| GraphError::invalid(format!("components.BODY.text: {e}")))?;
    let examples = components
        .as_array()
        .into_iter()
        .flatten()
        .find_map(|c| c.pointer("/example/body_text/0").and_then(Value::as_array))
        .map_or(0, Vec::len);
    if n > 0 && examples != n {
        return Err(GraphError::invalid(format!(
            "components.BODY.example.body_text: {n} sample values are required, {examples} given"
        )));
    }
    if st
        .templates
        .iter()
        .any(|t| t.waba_id == node && t.name == name && t.language == language)
    {
        return Err(GraphError::new(400, 100, "(#100) Invalid parameter")
            .subcode(2388024)
            .details(format!(
                "Content in this language already exists: {name} ({language})"
            )));
    }
    let status = if st.auto_approve {
        "APPROVED"
    } else {
        "PENDING"
    };
    let id = numeric_id(st.next());
    st.templates.push(Template {
        id: id.clone(),
        waba_id: node.to_owned(),
        name: name.to_owned(),
        language: language.to_owned(),
        category: category.clone(),
        status: status.to_owned(),
        components,
        rejected_reason: None,
    });
    Ok(json!({ "id": id, "status": status, "category": category }))
}

/// Meta doc: Templates › "Get templates" (`GET /{WABA-ID}/message_templates`, cursor paging).
async fn list(
    AxumState(sb): AxumState<WhatsAppSandbox>,
    Path((version, node)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Response {
    let st = sb.lock();
    if let Err(e) = owner(&st, &version, &node, &headers, "get") {
        return e.into_response();
    }
    let limit = q
        .get("limit")
        .and_then(|l| l.parse::<usize>().ok())
        .unwrap_or(DEFAULT_PAGE)
        .clamp(1, 1000);
    let start = q
        .get("after")
        .and_then(|c| B64.decode(c).ok())
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.parse::<usize>().ok())
        .unwrap_or(0);
    let all: Vec<&Template> = st.templates.iter().filter(|t| t.waba_id == node).collect();
    let page: Vec<Value> = all.iter().skip(start).take(limit).map(|t| {
        let mut v = json!({ "name": t.name, "parameter_format": "POSITIONAL", "components": t.components,
                            "language": t.language, "status": t.status, "category": t.category, "id": t.id });
        if let Some(reason) = &t.rejected_reason {
            v["rejected_reason"] = json!(reason);
        }
        v
    }).collect();
    let end = start + page.len();
    let mut body = json!({ "data": page });
    if !page.is_empty() {
        // A cursor is the opaque index of the next row, as a client passes it back in `after`.
        body["paging"] = json!({ "cursors": { "before": B64.encode(start.to_string()),
                                              "after": B64.encode(end.to_string()) } });
        if end < all.len() {
            let base = st.public_url.clone().unwrap_or_default();
            body["paging"]["next"] = json!(format!(
                "{base}/{version}/{node}/message_templates?limit={limit}&after={}",
                B64.encode(end.to_string())
            ));
        }
    }
    json_response(200, body)
}
