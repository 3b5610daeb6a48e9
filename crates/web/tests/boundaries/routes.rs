//! The walk list: every mutating route of the staff UI and the API, each called with ids it must
//! not act on (`routes_ui`, `routes_api`), or named here as taking no id. `coverage` fails when
//! the router has a mutating route that is in neither list, so a new route cannot skip the walk.
use serde_json::Value;

/// Routes that act only on the session's own clinic (or on no clinic) and name nothing by id.
pub const NO_IDS: &[(&str, &str, &str)] = &[
    ("POST", "/login", "before sign-in"),
    ("POST", "/login/2fa", "before sign-in"),
    ("POST", "/login/2fa/setup", "before sign-in"),
    ("POST", "/logout", "the caller's own session"),
    ("POST", "/logout/everywhere", "the caller's own sessions"),
    (
        "POST",
        "/app/patients/new",
        "creates in the session's clinic",
    ),
    (
        "POST",
        "/app/patients/import",
        "creates in the session's clinic",
    ),
    (
        "POST",
        "/app/settings/fields",
        "creates in the session's clinic",
    ),
    (
        "POST",
        "/app/settings/calendar/hours",
        "the session's clinic",
    ),
    (
        "POST",
        "/app/settings/calendar/closures",
        "creates in the session's clinic",
    ),
    (
        "POST",
        "/app/settings/calendar/holidays/{date}",
        "a date, not an id",
    ),
    (
        "POST",
        "/app/settings/channels",
        "creates in the session's clinic",
    ),
    (
        "POST",
        "/app/settings/flows",
        "creates in the session's clinic",
    ),
    (
        "POST",
        "/app/settings/flows/sample",
        "creates in the session's clinic",
    ),
    ("POST", "/app/settings/retention", "the session's clinic"),
    (
        "POST",
        "/app/settings/teams",
        "creates in the session's clinic",
    ),
    (
        "POST",
        "/app/settings/labels",
        "creates in the session's clinic",
    ),
    (
        "POST",
        "/app/settings/service-levels",
        "the session's clinic",
    ),
    ("POST", "/app/settings/satisfaction", "the session's clinic"),
    (
        "POST",
        "/app/availability",
        "the caller's own availability in the session's clinic",
    ),
    (
        "POST",
        "/app/settings/canned",
        "creates in the session's clinic",
    ),
    ("POST", "/app/settings/canned/phone", "the session's clinic"),
    (
        "POST",
        "/app/settings/automation/settings",
        "the session's clinic",
    ),
    ("POST", "/app/settings/safety", "the session's clinic"),
    (
        "POST",
        "/app/settings/faq-menu",
        "the session's clinic; an item id from another clinic becomes a new item",
    ),
    (
        "PUT",
        "/api/v1/automation/faq-menu",
        "the token's clinic; an item id from another clinic becomes a new item",
    ),
    (
        "POST",
        "/app/settings/safety/phrases",
        "creates in the session's clinic",
    ),
    (
        "POST",
        "/app/settings/safety/rules/{id}",
        "a built-in rule's id, the same in every clinic; the switch is the session's clinic's",
    ),
    (
        "POST",
        "/api/v1/canned-responses",
        "creates in the token's clinic",
    ),
    (
        "POST",
        "/app/inbox/views",
        "creates the session's person's own view",
    ),
    ("POST", "/api/v1/channels", "creates in the token's clinic"),
    ("POST", "/api/v1/patients", "creates in the token's clinic"),
    (
        "POST",
        "/api/v1/patients/import",
        "creates in the token's clinic",
    ),
    (
        "POST",
        "/api/v1/custom-fields",
        "creates in the token's clinic",
    ),
    ("PUT", "/api/v1/calendar/hours", "the token's clinic"),
    ("PUT", "/api/v1/satisfaction/settings", "the token's clinic"),
    (
        "POST",
        "/api/v1/calendar/closures",
        "creates in the token's clinic",
    ),
    (
        "PUT",
        "/api/v1/calendar/holidays/{date}",
        "a date, not an id",
    ),
    ("PUT", "/api/v1/settings/retention", "the token's clinic"),
    ("ANY", "/api/v1/{*rest}", "the API's 404 for unknown paths"),
];

pub enum Send {
    /// A staff form (the CSRF token is added).
    Form(Vec<(String, String)>),
    /// An API call with a bearer token.
    Json(Option<Value>),
}

pub struct Case {
    pub method: &'static str,
    /// The route as mounted, `{param}` form.
    pub route: &'static str,
    pub path: String,
    pub send: Send,
    /// 404 for an id that is not the caller's to act on; 422 where the id is a reference the
    /// body names (a link target, a proxy, a channel), as the API documents; 403 for a clinic.
    pub expect: u16,
    /// Which ids are crossed, for the failure message.
    pub what: &'static str,
}

impl Case {
    pub fn form(
        route: &'static str,
        path: String,
        fields: &[(&str, &str)],
        what: &'static str,
    ) -> Case {
        let fields = fields
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Case {
            method: "POST",
            route,
            path,
            send: Send::Form(fields),
            expect: 404,
            what,
        }
    }

    pub fn json(
        method: &'static str,
        route: &'static str,
        path: String,
        body: Option<Value>,
        what: &'static str,
    ) -> Case {
        Case {
            method,
            route,
            path,
            send: Send::Json(body),
            expect: 404,
            what,
        }
    }

    pub fn expect(self, expect: u16) -> Case {
        Case { expect, ..self }
    }
}
