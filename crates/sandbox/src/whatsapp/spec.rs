//! Send-message bodies checked against Meta's official OpenAPI spec
//! (spec/whatsapp/send-message.yaml, MIT), plus the limits Meta documents only in prose.
//!
//! Loading rewrites the spec in three ways, each because JSON Schema reads it differently
//! from Meta's intent:
//! - `discriminator`s (Message, TemplateComponent, ParameterObject…) become "the base, and the
//!   schema the mapping names for this `type`", as in `line/spec.rs`;
//! - `allOf: [$ref Base, {additionalProperties: false, …}]` would refuse the base's own
//!   properties (`to`, `messaging_product`…), so the base's names are allowed explicitly;
//! - [`CORRECTIONS`]: places where the spec contradicts Meta's own examples and the live API.
use std::collections::BTreeSet;
use std::sync::OnceLock;

use jsonschema::paths::PathChunk;
use jsonschema::{Draft, JSONSchema};
use serde_json::{json, Map, Value};

const SPEC_YAML: &str = include_str!("../../spec/whatsapp/send-message.yaml");
const SCHEMAS: &str = "#/components/schemas/";
/// Meta's documented limits (Cloud API › Messages: text, interactive, media captions).
pub const MAX_TEXT: usize = 4096;
pub const MAX_CAPTION: usize = 1024;
pub const MAX_LIST_ROWS: usize = 10;
/// The message kinds that carry their content in a same-named object.
pub const KINDS: [&str; 11] = [
    "text",
    "image",
    "audio",
    "video",
    "document",
    "sticker",
    "location",
    "contacts",
    "reaction",
    "interactive",
    "template",
];

/// (JSON pointer into components.schemas, replacement, why).
const CORRECTIONS: &[(&str, &str, &str)] = &[
    ("/BaseMessageProperties/required", r#"["messaging_product","to"]"#,
     "Meta's examples omit recipient_type (default individual) and type (inferred, text by default)"),
    ("/LanguageObject/required", r#"["code"]"#,
     "policy is optional: most of Meta's template examples send only code"),
    ("/TemplateComponent/properties/index", INDEX,
     "0-9 as a string or a number; the spec's pattern ^[2-6, 11-14]$ refuses its own example \"0\""),
    ("/ButtonComponent/allOf/1/properties/index", INDEX, "as above"),
    ("/TemplateComponent/properties/sub_type", SUB_TYPE,
     "Meta's examples send flow and CATALOG; the API ignores case"),
    ("/ButtonComponent/allOf/1/properties/sub_type", SUB_TYPE, "as above"),
    ("/LocationMessage/allOf/1/properties/location/properties/latitude", r#"{"type":["number","string"]}"#,
     "Meta's examples send numbers"),
    ("/LocationMessage/allOf/1/properties/location/properties/longitude", r#"{"type":["number","string"]}"#,
     "Meta's examples send numbers"),
    ("/ButtonTextParameter/allOf/1/properties/text", r#"{"type":["string","boolean","number"]}"#,
     "the Graph API turns scalars into strings; Meta's issue-resolution example sends true/false"),
    ("/ButtonParameterObject/properties/type/enum", r#"["payload","text","action"]"#,
     "catalog, multi-product and flow buttons take an `action` parameter (Meta's catalog example)"),
    ("/InteractiveObject/properties/type/enum",
     r#"["button","call_permission_request","catalog_message","list","product","product_list","flow","order_details","order_status"]"#,
     "order_details and order_status are documented (payments) and in Meta's examples"),
];
const INDEX: &str = r#"{"anyOf":[{"type":"string","pattern":"^[0-9]$"},{"type":"integer","minimum":0,"maximum":9}]}"#;
const SUB_TYPE: &str = r#"{"enum":["quick_reply","url","catalog","flow","copy_code","mpm","voice_call","QUICK_REPLY","URL","CATALOG","FLOW","COPY_CODE","MPM","VOICE_CALL"]}"#;
/// The `action` button parameter (catalog, multi-product, flow buttons) the spec leaves out.
const BUTTON_ACTION: &str = r##"{"allOf":[{"$ref":"#/components/schemas/ButtonParameterObject"},{"type":"object","required":["action"],"properties":{"type":{"enum":["action"]},"action":{"type":"object"}}}]}"##;
/// The payment actions (order_details/order_status) the spec's ActionObject leaves out.
const ORDER_ACTION: &str = r#"{"required":["name","parameters"],"properties":{"name":{"enum":["review_and_pay","review_order"]},"parameters":{"type":"object"}}}"#;

pub struct Spec {
    message: JSONSchema,
    mark_read: JSONSchema,
}

/// Loads and compiles the spec once per process.
pub fn spec() -> Result<&'static Spec, String> {
    static SPEC: OnceLock<Result<Spec, String>> = OnceLock::new();
    SPEC.get_or_init(Spec::load).as_ref().map_err(Clone::clone)
}

impl Spec {
    fn load() -> Result<Spec, String> {
        let doc: Value = serde_yaml::from_str(SPEC_YAML)
            .map_err(|e| format!("reading send-message.yaml: {e}"))?;
        let mut schemas = doc
            .pointer("/components/schemas")
            .and_then(Value::as_object)
            .cloned()
            .ok_or("send-message.yaml has no components.schemas")?;
        correct(&mut schemas)?;
        let schemas = allow_base_properties(apply_discriminators(schemas));
        let root =
            json!({ "$ref": format!("{SCHEMAS}Message"), "components": { "schemas": schemas } });
        let compile = |schema: &Value| {
            JSONSchema::options()
                .with_draft(Draft::Draft7)
                .compile(schema)
                .map_err(|e| format!("compiling the WhatsApp spec: {e}"))
        };
        // Not in the spec's schemas, only in its example "Send typing indicator and read receipt".
        let mark_read = json!({
            "type": "object", "additionalProperties": false,
            "required": ["messaging_product", "status", "message_id"],
            "properties": {
                "messaging_product": { "const": "whatsapp" },
                "status": { "const": "read" },
                "message_id": { "type": "string", "minLength": 1 },
                "typing_indicator": { "type": "object", "required": ["type"], "additionalProperties": false,
                                      "properties": { "type": { "const": "text" } } }
            }
        });
        Ok(Spec {
            message: compile(&root)?,
            mark_read: compile(&mark_read)?,
        })
    }

    /// Every problem with a send body, as `"path: message"` lines (empty when valid).
    pub fn validate_message(&self, body: &Value) -> Vec<String> {
        let mut out: Vec<String> = match self.message.validate(body) {
            Ok(()) => Vec::new(),
            Err(errors) => errors.map(|e| describe(&e)).collect(),
        };
        out.extend(limits(body));
        out.sort();
        out.dedup();
        out
    }

    pub fn validate_mark_read(&self, body: &Value) -> Vec<String> {
        match self.mark_read.validate(body) {
            Ok(()) => Vec::new(),
            Err(errors) => errors.map(|e| describe(&e)).collect(),
        }
    }
}

/// Meta infers a missing `type` (text by default): its own examples rely on it.
pub fn infer_type(body: &mut Value) {
    let Some(obj) = body.as_object_mut() else {
        return;
    };
    if obj.contains_key("type") {
        return;
    }
    let present: Vec<&str> = KINDS.into_iter().filter(|k| obj.contains_key(*k)).collect();
    let kind = match present.as_slice() {
        [one] => *one,
        _ => "text",
    };
    obj.insert("type".into(), json!(kind));
}

fn correct(schemas: &mut Map<String, Value>) -> Result<(), String> {
    let mut root = Value::Object(std::mem::take(schemas));
    for (pointer, replacement, _why) in CORRECTIONS {
        let value: Value =
            serde_json::from_str(replacement).map_err(|e| format!("correction {pointer}: {e}"))?;
        let slot = root
            .pointer_mut(pointer)
            .ok_or_else(|| format!("correction {pointer}: not in the spec any more"))?;
        *slot = value;
    }
    // Meta doc: Messages › biz_opaque_callback_data (≤ 512, echoed in statuses); not in the spec.
    root.pointer_mut("/BaseMessageProperties/properties")
        .and_then(Value::as_object_mut)
        .ok_or("BaseMessageProperties is not in the spec any more")?
        .insert(
            "biz_opaque_callback_data".into(),
            json!({"type": "string", "maxLength": 512}),
        );
    let order: Value = serde_json::from_str(ORDER_ACTION).map_err(|e| e.to_string())?;
    root.pointer_mut("/ActionObject/oneOf")
        .and_then(Value::as_array_mut)
        .ok_or("ActionObject.oneOf is not in the spec any more")?
        .push(order);
    root.pointer_mut("/ButtonParameterObject/discriminator/mapping")
        .and_then(Value::as_object_mut)
        .ok_or("ButtonParameterObject's mapping is not in the spec any more")?
        .insert(
            "action".into(),
            json!(format!("{SCHEMAS}ButtonActionParameter")),
        );
    let action: Value = serde_json::from_str(BUTTON_ACTION).map_err(|e| e.to_string())?;
    if let Value::Object(map) = &mut root {
        map.insert("ButtonActionParameter".into(), action);
    }
    if let Value::Object(map) = root {
        *schemas = map;
    }
    Ok(())
}

fn apply_discriminators(mut schemas: Map<String, Value>) -> Map<String, Value> {
    let names: Vec<String> = schemas
        .iter()
        .filter(|(_, s)| s.get("discriminator").is_some())
        .map(|(n, _)| n.clone())
        .collect();
    for name in names {
        let Some(mut base) = schemas.remove(&name) else {
            continue;
        };
        let d = base.get("discriminator").cloned().unwrap_or(Value::Null);
        let prop = d
            .get("propertyName")
            .and_then(Value::as_str)
            .unwrap_or("type")
            .to_owned();
        let mapping: Vec<(String, String)> = d
            .get("mapping")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.strip_prefix(SCHEMAS)?.to_owned())))
            .collect();
        if let Some(obj) = base.as_object_mut() {
            obj.remove("discriminator");
            // Message's oneOf lists the same targets: the if/then below replaces it.
            obj.remove("oneOf");
        }
        let parent = json!({ "$ref": format!("{SCHEMAS}{name}") });
        for (_, target) in &mapping {
            let parts = schemas.get_mut(target).and_then(|s| s.get_mut("allOf"));
            for part in parts.and_then(Value::as_array_mut).into_iter().flatten() {
                if *part == parent {
                    *part = json!({ "$ref": format!("{SCHEMAS}{name}__base") });
                }
            }
        }
        schemas.insert(format!("{name}__base"), base);
        let keys: Vec<&String> = mapping.iter().map(|(k, _)| k).collect();
        let mut all_of = vec![
            json!({ "$ref": format!("{SCHEMAS}{name}__base") }),
            json!({ "required": [prop], "properties": { prop.as_str(): { "enum": keys } } }),
        ];
        for (key, target) in &mapping {
            all_of.push(json!({
                "if": { "properties": { prop.as_str(): { "const": key } }, "required": [prop] },
                "then": { "$ref": format!("{SCHEMAS}{target}") },
            }));
        }
        schemas.insert(name, json!({ "allOf": all_of }));
    }
    schemas
}

fn allow_base_properties(mut schemas: Map<String, Value>) -> Map<String, Value> {
    let property_names = |schemas: &Map<String, Value>, name: &str| -> BTreeSet<String> {
        schemas
            .get(name)
            .and_then(|s| s.get("properties"))
            .and_then(Value::as_object)
            .map(|p| p.keys().cloned().collect())
            .unwrap_or_default()
    };
    let names: Vec<String> = schemas.keys().cloned().collect();
    for name in names {
        let Some(parts) = schemas
            .get(&name)
            .and_then(|s| s.get("allOf"))
            .and_then(Value::as_array)
        else {
            continue;
        };
        let inherited: BTreeSet<String> = parts
            .iter()
            .filter_map(|p| p.get("$ref").and_then(Value::as_str)?.strip_prefix(SCHEMAS))
            .flat_map(|base| property_names(&schemas, base))
            .collect();
        let parts = schemas
            .get_mut(&name)
            .and_then(|s| s.get_mut("allOf"))
            .and_then(Value::as_array_mut);
        for part in parts.into_iter().flatten() {
            if part.get("additionalProperties") != Some(&Value::Bool(false)) {
                continue;
            }
            if let Some(props) = part.get_mut("properties").and_then(Value::as_object_mut) {
                for n in &inherited {
                    props.entry(n.clone()).or_insert(json!({}));
                }
            }
        }
    }
    schemas
}

fn describe(e: &jsonschema::ValidationError<'_>) -> String {
    let mut path = String::new();
    for chunk in e.instance_path.iter() {
        match chunk {
            PathChunk::Property(p) => {
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(p);
            }
            PathChunk::Index(i) => path.push_str(&format!("[{i}]")),
            PathChunk::Keyword(_) => {}
        }
    }
    let at = if path.is_empty() {
        "body".to_owned()
    } else {
        path
    };
    format!("{at}: {e}")
}

fn chars(v: Option<&Value>) -> usize {
    v.and_then(Value::as_str).map_or(0, |s| s.chars().count())
}

/// Meta doc: Cloud API › Messages (text, interactive reply buttons and lists, media).
fn limits(body: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let kind = body.get("type").and_then(Value::as_str).unwrap_or_default();
    if body.get("messaging_product").and_then(Value::as_str) != Some("whatsapp") {
        out.push("messaging_product: must be \"whatsapp\"".to_owned());
    }
    match kind {
        "text" => {
            let n = chars(body.pointer("/text/body"));
            if n == 0 {
                out.push("text.body: is required and may not be empty".to_owned());
            } else if n > MAX_TEXT {
                out.push(format!(
                    "text.body: {n} characters, at most {MAX_TEXT} allowed"
                ));
            }
        }
        "image" | "video" | "document" => {
            let n = chars(body.pointer(&format!("/{kind}/caption")));
            if n > MAX_CAPTION {
                out.push(format!(
                    "{kind}.caption: {n} characters, at most {MAX_CAPTION} allowed"
                ));
            }
        }
        "interactive" => out.extend(interactive_limits(
            body.get("interactive").unwrap_or(&Value::Null),
        )),
        _ => {}
    }
    out
}

fn interactive_limits(i: &Value) -> Vec<String> {
    let mut out = Vec::new();
    let kind = i.get("type").and_then(Value::as_str).unwrap_or_default();
    if matches!(kind, "button" | "list") && chars(i.pointer("/body/text")) == 0 {
        out.push("interactive.body.text: is required".to_owned());
    }
    if kind == "button" {
        let buttons = i.pointer("/action/buttons").and_then(Value::as_array);
        let mut ids = BTreeSet::new();
        let mut titles = BTreeSet::new();
        for b in buttons.into_iter().flatten() {
            let id = b
                .pointer("/reply/id")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let title = b
                .pointer("/reply/title")
                .and_then(Value::as_str)
                .unwrap_or_default();
            if id.is_empty() || title.is_empty() {
                out.push("interactive.action.buttons: id and title may not be empty".to_owned());
            }
            if !ids.insert(id) || !titles.insert(title) {
                out.push("interactive.action.buttons: ids and titles must be unique".to_owned());
            }
        }
    }
    if kind == "list" {
        let sections = i.pointer("/action/sections").and_then(Value::as_array);
        let sections: Vec<&Value> = sections.into_iter().flatten().collect();
        let rows: usize = sections
            .iter()
            .map(|s| s.get("rows").and_then(Value::as_array).map_or(0, Vec::len))
            .sum();
        if rows == 0 || rows > MAX_LIST_ROWS {
            out.push(format!(
                "interactive.action.sections: {rows} rows in all, 1 to {MAX_LIST_ROWS} allowed"
            ));
        }
        if sections.len() > 1 && sections.iter().any(|s| chars(s.get("title")) == 0) {
            out.push(
                "interactive.action.sections: every section needs a title when there are several"
                    .to_owned(),
            );
        }
        if chars(i.pointer("/action/button")) == 0 {
            out.push("interactive.action.button: is required".to_owned());
        }
    }
    out
}
