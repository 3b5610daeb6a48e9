//! Request validation against LINE's official OpenAPI spec (spec/messaging-api.yml, Apache-2.0),
//! plus the limits LINE enforces that the spec does not state.
//!
//! OpenAPI `discriminator`s (Message by `type`, Action, Template, Flex components…) mean nothing to
//! JSON Schema, so at load time each discriminated schema `S` is rewritten: its own rules move to
//! `S__base`, the subtypes' `allOf: [$ref S]` point at `S__base` (no recursion), and `S` becomes
//! "S__base, and the subtype its mapping names for this `type`". Every nested message object is
//! thereby checked against its concrete schema, e.g. type text → TextMessage.
use std::collections::HashMap;
use std::sync::OnceLock;

use jsonschema::error::ValidationErrorKind;
use jsonschema::paths::PathChunk;
use jsonschema::{Draft, JSONSchema};
use serde_json::{json, Map, Value};

const SPEC_YAML: &str = include_str!("../../spec/messaging-api.yml");
const SCHEMAS: &str = "#/components/schemas/";
/// LINE's text limit; counted in UTF-16 units (the stricter reading of "5000 characters").
pub const MAX_TEXT: usize = 5000;
pub const MAX_QUICK_REPLY_ITEMS: usize = 13;

/// One entry of LINE's `details` array.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Detail {
    pub property: String,
    pub message: String,
}

pub struct Spec {
    validators: HashMap<&'static str, JSONSchema>,
}

/// The request schemas the sandbox validates, by name in the spec.
const REQUEST_SCHEMAS: [&str; 12] = [
    "RichMenuRequest",
    "RichMenuBulkLinkRequest",
    "RichMenuBatchRequest",
    "CreateRichMenuAliasRequest",
    "UpdateRichMenuAliasRequest",
    "ReplyMessageRequest",
    "PushMessageRequest",
    "MulticastRequest",
    "NarrowcastRequest",
    "BroadcastRequest",
    "MarkMessagesAsReadByTokenRequest",
    "ShowLoadingAnimationRequest",
];

/// Loads and compiles the spec once per process (many sandboxes share it in tests).
pub fn spec() -> Result<&'static Spec, String> {
    static SPEC: OnceLock<Result<Spec, String>> = OnceLock::new();
    SPEC.get_or_init(Spec::load).as_ref().map_err(Clone::clone)
}

impl Spec {
    fn load() -> Result<Spec, String> {
        let yaml: serde_yaml::Value = serde_yaml::from_str(SPEC_YAML)
            .map_err(|e| format!("reading messaging-api.yml: {e}"))?;
        let doc = yaml_to_json(yaml);
        let schemas = doc
            .pointer("/components/schemas")
            .and_then(Value::as_object)
            .cloned()
            .ok_or("messaging-api.yml has no components.schemas")?;
        let schemas = apply_discriminators(schemas);
        let mut validators = HashMap::new();
        for name in REQUEST_SCHEMAS {
            let root = json!({
                "$ref": format!("{SCHEMAS}{name}"),
                "components": { "schemas": schemas.clone() },
            });
            let compiled = JSONSchema::options()
                .with_draft(Draft::Draft7)
                .compile(&root)
                .map_err(|e| format!("compiling {name}: {e}"))?;
            validators.insert(name, compiled);
        }
        Ok(Spec { validators })
    }

    /// All problems with `body` as the request schema `schema` (empty when valid).
    pub fn validate(&self, schema: &str, body: &Value) -> Vec<Detail> {
        let mut details = match self.validators.get(schema) {
            Some(v) => match v.validate(body) {
                Ok(()) => Vec::new(),
                Err(errors) => errors.map(|e| detail(&e)).collect(),
            },
            None => vec![Detail {
                property: String::new(),
                message: format!("sandbox has no schema {schema}"),
            }],
        };
        details.extend(extra_limits(body));
        details.sort_by(|a, b| a.property.cmp(&b.property).then(a.message.cmp(&b.message)));
        details.dedup();
        details
    }
}

/// A schema with an OpenAPI discriminator: property and (value → target schema name) pairs.
struct Discriminated {
    name: String,
    prop: String,
    mapping: Vec<(String, String)>,
}

fn apply_discriminators(mut schemas: Map<String, Value>) -> Map<String, Value> {
    let mut discriminated: Vec<Discriminated> = Vec::new();
    for (name, schema) in &schemas {
        let Some(d) = schema.get("discriminator") else {
            continue;
        };
        let prop = d
            .get("propertyName")
            .and_then(Value::as_str)
            .unwrap_or("type");
        let mapping = d
            .get("mapping")
            .and_then(Value::as_object)
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| {
                        Some((k.clone(), v.as_str()?.strip_prefix(SCHEMAS)?.to_owned()))
                    })
                    .collect()
            })
            .unwrap_or_default();
        discriminated.push(Discriminated {
            name: name.clone(),
            prop: prop.to_owned(),
            mapping,
        });
    }
    // Subtypes extend the base, not the dispatcher.
    for Discriminated { name, mapping, .. } in &discriminated {
        let parent = json!({ "$ref": format!("{SCHEMAS}{name}") });
        for (_, target) in mapping {
            let Some(all_of) = schemas.get_mut(target).and_then(|s| s.get_mut("allOf")) else {
                continue;
            };
            for part in all_of.as_array_mut().into_iter().flatten() {
                if *part == parent {
                    *part = json!({ "$ref": format!("{SCHEMAS}{name}__base") });
                }
            }
        }
    }
    for Discriminated {
        name,
        prop,
        mapping,
    } in discriminated
    {
        let Some(mut base) = schemas.remove(&name) else {
            continue;
        };
        if let Some(obj) = base.as_object_mut() {
            obj.remove("discriminator");
        }
        schemas.insert(format!("{name}__base"), base);
        let keys: Vec<&String> = mapping.iter().map(|(k, _)| k).collect();
        let mut all_of = vec![
            json!({ "$ref": format!("{SCHEMAS}{name}__base") }),
            json!({ "properties": { prop.as_str(): { "enum": keys } } }),
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

/// Turns a validation error into LINE's `{property, message}` shape.
fn detail(e: &jsonschema::ValidationError<'_>) -> Detail {
    let mut property = String::new();
    for chunk in e.instance_path.iter() {
        match chunk {
            PathChunk::Property(p) => {
                if !property.is_empty() {
                    property.push('.');
                }
                property.push_str(p);
            }
            PathChunk::Index(i) => property.push_str(&format!("[{i}]")),
            PathChunk::Keyword(_) => {}
        }
    }
    let message = match &e.kind {
        ValidationErrorKind::Required { property: missing } => {
            if let Some(name) = missing.as_str() {
                if !property.is_empty() {
                    property.push('.');
                }
                property.push_str(name);
            }
            "must be specified".to_owned()
        }
        ValidationErrorKind::MaxItems { limit } => format!("Size must be at most {limit}"),
        ValidationErrorKind::MinItems { limit } => format!("Size must be at least {limit}"),
        ValidationErrorKind::MaxLength { limit } => format!("Length must be at most {limit}"),
        ValidationErrorKind::MinLength { limit } => format!("Length must be at least {limit}"),
        ValidationErrorKind::Enum { options } => {
            format!("Must be one of the following values: {options}")
        }
        ValidationErrorKind::Format { format } => format!("Invalid {format}"),
        _ => e.to_string(),
    };
    Detail { property, message }
}

/// Limits LINE enforces that the spec leaves out (or states only in prose).
fn extra_limits(body: &Value) -> Vec<Detail> {
    let mut out = Vec::new();
    let Some(messages) = body.get("messages").and_then(Value::as_array) else {
        return out;
    };
    for (i, m) in messages.iter().enumerate() {
        let kind = m.get("type").and_then(Value::as_str).unwrap_or_default();
        if matches!(kind, "text" | "textV2") {
            if let Some(text) = m.get("text").and_then(Value::as_str) {
                let units = text.encode_utf16().count();
                if units == 0 {
                    out.push(Detail {
                        property: format!("messages[{i}].text"),
                        message: "May not be empty".to_owned(),
                    });
                } else if units > MAX_TEXT {
                    out.push(Detail {
                        property: format!("messages[{i}].text"),
                        message: format!("Length must be between 0 and {MAX_TEXT}"),
                    });
                }
            }
        }
        let items = m.pointer("/quickReply/items").and_then(Value::as_array);
        if items.is_some_and(|items| items.len() > MAX_QUICK_REPLY_ITEMS) {
            out.push(Detail {
                property: format!("messages[{i}].quickReply.items"),
                message: format!("Size must be between 0 and {MAX_QUICK_REPLY_ITEMS}"),
            });
        }
    }
    out
}

/// YAML allows non-string keys (e.g. unquoted status codes); JSON Schema needs strings.
fn yaml_to_json(v: serde_yaml::Value) -> Value {
    use serde_yaml::Value as Y;
    match v {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(b),
        Y::Number(n) => {
            if let Some(i) = n.as_i64() {
                json!(i)
            } else if let Some(u) = n.as_u64() {
                json!(u)
            } else {
                n.as_f64().map_or(Value::Null, |f| json!(f))
            }
        }
        Y::String(s) => Value::String(s),
        Y::Sequence(items) => Value::Array(items.into_iter().map(yaml_to_json).collect()),
        Y::Mapping(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| {
                    let key = match yaml_to_json(k) {
                        Value::String(s) => s,
                        other => other.to_string(),
                    };
                    (key, yaml_to_json(v))
                })
                .collect(),
        ),
        Y::Tagged(t) => yaml_to_json(t.value),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn push(messages: Value) -> Vec<Detail> {
        let body = json!({ "to": "U4af4980629abcdef0123456789abcdef", "messages": messages });
        match spec() {
            Ok(s) => s.validate("PushMessageRequest", &body),
            Err(e) => panic!("spec failed to load: {e}"),
        }
    }

    #[test]
    fn a_plain_text_push_is_valid() {
        assert_eq!(
            push(json!([{ "type": "text", "text": "こんにちは" }])),
            vec![]
        );
    }

    #[test]
    fn a_text_message_without_text_fails_its_discriminated_schema() {
        let details = push(json!([{ "type": "text" }]));
        assert!(
            details.iter().any(|d| d.property == "messages[0].text"),
            "{details:?}"
        );
    }

    #[test]
    fn an_unknown_message_type_is_refused() {
        let details = push(json!([{ "type": "hologram" }]));
        assert!(
            details.iter().any(|d| d.property == "messages[0].type"),
            "{details:?}"
        );
    }

    #[test]
    fn a_nested_action_is_checked_against_its_own_schema() {
        let msg = json!([{ "type": "template", "altText": "a", "template": {
            "type": "buttons", "text": "t",
            "actions": [{ "type": "uri", "label": "x", "uri": "not a uri" }] } }]);
        let details = push(msg);
        assert!(
            details
                .iter()
                .any(|d| d.property.starts_with("messages[0].template.actions[0]")),
            "{details:?}"
        );
    }

    #[test]
    fn six_messages_and_an_overlong_text_are_refused() {
        let six = Value::Array(vec![json!({ "type": "text", "text": "a" }); 6]);
        assert!(push(six).iter().any(|d| d.property == "messages"));
        let long = json!([{ "type": "text", "text": "a".repeat(5001) }]);
        assert!(push(long).iter().any(|d| d.property == "messages[0].text"));
    }
}
