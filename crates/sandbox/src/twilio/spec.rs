//! Validation against Twilio's official OpenAPI (spec/twilio/, MIT): CreateMessage's form
//! parameters, and the `api.v2010.account.message` resource the sandbox answers with.
//!
//! The spec is OpenAPI 3.0: form values arrive as strings and are typed by the schema first
//! (arrays from repeated names, integers, booleans); `nullable: true` becomes `type: [t, "null"]`
//! for JSON Schema. Formats (`phone-number`, `uri`) are left to the handler, which answers with
//! Twilio's specific codes for them.
use std::sync::OnceLock;

use jsonschema::error::ValidationErrorKind;
use jsonschema::paths::PathChunk;
use jsonschema::{Draft, JSONSchema};
use serde_json::{json, Map, Value};

const SPEC_JSON: &str = include_str!("../../spec/twilio/twilio_api_v2010.messages.json");
const CREATE_PATH: &str = "/2010-04-01/Accounts/{AccountSid}/Messages.json";
const FORM: &str = "application/x-www-form-urlencoded";
pub const MESSAGE_SCHEMA: &str = "api.v2010.account.message";

/// One thing wrong with a request: the parameter (empty for the whole request) and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub param: String,
    pub message: String,
}

pub struct Spec {
    /// CreateMessageRequest's properties (name → schema, `$ref`s resolved one level).
    params: Map<String, Value>,
    create: JSONSchema,
    message: JSONSchema,
    /// `api.v2010.account.message`'s property names, in the spec's order.
    pub message_properties: Vec<String>,
}

/// Loads and compiles the spec once per process.
pub fn spec() -> Result<&'static Spec, String> {
    static SPEC: OnceLock<Result<Spec, String>> = OnceLock::new();
    SPEC.get_or_init(Spec::load).as_ref().map_err(Clone::clone)
}

impl Spec {
    fn load() -> Result<Spec, String> {
        let doc: Value =
            serde_json::from_str(SPEC_JSON).map_err(|e| format!("reading the Twilio spec: {e}"))?;
        let schemas = doc
            .pointer("/components/schemas")
            .cloned()
            .map(nullable_to_json_schema)
            .ok_or("the Twilio spec has no components.schemas")?;
        let request = doc
            .get("paths")
            .and_then(|p| p.get(CREATE_PATH))
            .and_then(|p| p.pointer("/post/requestBody/content"))
            .and_then(|c| c.get(FORM))
            .and_then(|c| c.get("schema"))
            .cloned()
            .ok_or("the Twilio spec has no CreateMessage form schema")?;
        let params = request
            .get("properties")
            .and_then(Value::as_object)
            .map(|props| {
                props
                    .iter()
                    .map(|(k, v)| (k.clone(), resolve(v, &schemas)))
                    .collect()
            })
            .unwrap_or_default();
        let compile = |root: Value, what: &str| {
            JSONSchema::options()
                .with_draft(Draft::Draft7)
                .compile(&root)
                .map_err(|e| format!("compiling {what}: {e}"))
        };
        let mut create_root = request.clone();
        if let Some(obj) = create_root.as_object_mut() {
            obj.insert("components".into(), json!({ "schemas": schemas.clone() }));
        }
        let create = compile(create_root, "CreateMessageRequest")?;
        let message_schema = schemas
            .get(MESSAGE_SCHEMA)
            .cloned()
            .ok_or("the Twilio spec has no message schema")?;
        let message_properties = message_schema
            .get("properties")
            .and_then(Value::as_object)
            .map(|p| p.keys().cloned().collect())
            .unwrap_or_default();
        // The resource as Twilio answers it: nothing more than the spec lists.
        let mut strict = message_schema;
        if let Some(obj) = strict.as_object_mut() {
            obj.insert("additionalProperties".into(), json!(false));
            obj.insert("required".into(), json!(message_properties));
            obj.insert("components".into(), json!({ "schemas": schemas }));
        }
        let message = compile(strict, MESSAGE_SCHEMA)?;
        Ok(Spec {
            params,
            create,
            message,
            message_properties,
        })
    }

    /// Types the form by the spec and validates it as CreateMessageRequest. Unknown parameters
    /// are ignored, as Twilio ignores them. Returns the typed request and any problems.
    pub fn create_message(&self, form: &[(String, String)]) -> (Value, Vec<Problem>) {
        let mut typed = Map::new();
        let mut problems = Vec::new();
        for (name, schema) in &self.params {
            let values: Vec<&str> = form
                .iter()
                .filter(|(k, _)| k == name)
                .map(|(_, v)| v.as_str())
                .collect();
            if values.is_empty() {
                continue;
            }
            match typed_value(schema, &values) {
                Ok(v) => {
                    typed.insert(name.clone(), v);
                }
                Err(message) => problems.push(Problem {
                    param: name.clone(),
                    message,
                }),
            }
        }
        let typed = Value::Object(typed);
        if let Err(errors) = self.create.validate(&typed) {
            problems.extend(errors.map(|e| problem(&e)));
        }
        (typed, problems)
    }

    /// Problems with `resource` as an `api.v2010.account.message` (empty when it conforms and
    /// carries exactly the spec's properties).
    pub fn check_message(&self, resource: &Value) -> Vec<String> {
        match self.message.validate(resource) {
            Ok(()) => Vec::new(),
            Err(errors) => errors
                .map(|e| format!("{}: {e}", e.instance_path))
                .collect(),
        }
    }
}

/// A property schema with a top-level `$ref` replaced by its target (the enums).
fn resolve(schema: &Value, schemas: &Value) -> Value {
    schema
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix("#/components/schemas/"))
        .and_then(|name| schemas.get(name))
        .cloned()
        .unwrap_or_else(|| schema.clone())
}

/// Form strings typed as the schema says (the last value wins for a scalar given twice).
fn typed_value(schema: &Value, values: &[&str]) -> Result<Value, String> {
    let last = values.last().copied().unwrap_or_default();
    match schema.get("type").and_then(Value::as_str) {
        Some("array") => Ok(json!(values)),
        Some("integer") => last
            .trim()
            .parse::<i64>()
            .map(Value::from)
            .map_err(|_| format!("{last:?} is not an integer")),
        Some("number") => last
            .trim()
            .parse::<f64>()
            .map(Value::from)
            .map_err(|_| format!("{last:?} is not a number")),
        Some("boolean") => match last.to_ascii_lowercase().as_str() {
            "true" => Ok(json!(true)),
            "false" => Ok(json!(false)),
            _ => Err(format!("{last:?} is not true or false")),
        },
        _ => Ok(json!(last)),
    }
}

fn problem(e: &jsonschema::ValidationError<'_>) -> Problem {
    let mut param = e
        .instance_path
        .iter()
        .find_map(|c| match c {
            PathChunk::Property(p) => Some(p.to_string()),
            _ => None,
        })
        .unwrap_or_default();
    if let ValidationErrorKind::Required { property } = &e.kind {
        param = property.as_str().unwrap_or_default().to_owned();
    }
    Problem {
        param,
        message: e.to_string(),
    }
}

/// OpenAPI 3.0 `nullable: true` → JSON Schema `type: [t, "null"]`, recursively; a `$ref`
/// sibling of `nullable` cannot be typed, so those are left as they are.
fn nullable_to_json_schema(mut v: Value) -> Value {
    match &mut v {
        Value::Object(obj) => {
            if obj.remove("nullable") == Some(Value::Bool(true)) {
                if let Some(Value::String(t)) = obj.get("type").cloned() {
                    obj.insert("type".into(), json!([t, "null"]));
                }
            }
            for (_, child) in obj.iter_mut() {
                *child = nullable_to_json_schema(child.take());
            }
        }
        Value::Array(items) => {
            for child in items.iter_mut() {
                *child = nullable_to_json_schema(child.take());
            }
        }
        _ => {}
    }
    v
}
