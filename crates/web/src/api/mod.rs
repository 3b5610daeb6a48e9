//! `/api/v1`: JSON for integrators, bearer tokens with scopes, one clinic per token.
//!
//! The router is built from one table (`operations`), so the list of mounted routes that the
//! OpenAPI test walks (`routes()`) cannot drift from what is served.
pub mod assignment;
pub mod auth;
pub mod automation;
pub mod automation_settings;
pub mod calendar;
pub mod canned;
pub mod channels;
pub mod consent;
pub mod conversation_state;
pub mod conversations;
pub mod event_rules;
pub mod extract;
pub mod faq_menu;
pub mod flow_preview;
pub mod flows;
pub mod idempotency;
pub mod idempotent;
pub mod messages;
pub mod openapi;
pub mod patients;
pub mod privacy;
pub mod refusal;
pub mod reply;
pub mod reply_content;
pub mod rich_menus;
pub mod satisfaction;
pub mod scheduled;
pub mod search;
pub mod sequences;
pub mod source_channels;
pub mod sources;
pub mod template_sync;
pub mod templates;
pub mod verification;

use axum::extract::DefaultBodyLimit;
use axum::handler::Handler;
use axum::routing::{self, MethodRouter};
use axum::Router;
use sqlx::pool::PoolConnection;
use sqlx::Any;
use tsunagu_core::{Code, Refusal};

pub use auth::ApiAuth;

use crate::{ApiError, AppState};

struct Operation {
    method: &'static str,
    path: &'static str,
    route: MethodRouter<AppState>,
}

fn get<H: Handler<T, AppState>, T: 'static>(path: &'static str, h: H) -> Operation {
    Operation {
        method: "GET",
        path,
        route: routing::get(h),
    }
}

/// Every `POST` honours `Idempotency-Key` through [`idempotent::Idempotent`].
fn post<H: Handler<T, AppState>, T: 'static>(path: &'static str, h: H) -> Operation {
    Operation {
        method: "POST",
        path,
        route: routing::post(idempotent::Idempotent::new(h)),
    }
}

impl Operation {
    /// A larger body than axum's default 2 MB (a CSV file).
    fn body_limit(self, bytes: usize) -> Operation {
        Operation {
            route: self.route.layer(DefaultBodyLimit::max(bytes)),
            ..self
        }
    }
}

fn patch<H: Handler<T, AppState>, T: 'static>(path: &'static str, h: H) -> Operation {
    Operation {
        method: "PATCH",
        path,
        route: routing::patch(h),
    }
}

fn put<H: Handler<T, AppState>, T: 'static>(path: &'static str, h: H) -> Operation {
    Operation {
        method: "PUT",
        path,
        route: routing::put(h),
    }
}

fn delete<H: Handler<T, AppState>, T: 'static>(path: &'static str, h: H) -> Operation {
    Operation {
        method: "DELETE",
        path,
        route: routing::delete(h),
    }
}

/// Every operation of the API. Add a route here (and its handler to `openapi::ApiDoc`).
fn operations() -> Vec<Operation> {
    vec![
        get("/api/v1/openapi.json", openapi::openapi_json),
        post("/api/v1/channels", channels::create),
        get("/api/v1/channels", channels::list),
        get("/api/v1/channels/{id}/templates", templates::list),
        post("/api/v1/channels/{id}/templates", templates::create),
        post("/api/v1/channels/{id}/templates/sync", template_sync::sync),
        patch(
            "/api/v1/channels/{id}/templates/{template_id}",
            templates::update,
        ),
        get("/api/v1/conversations", conversations::list),
        get("/api/v1/search", search::search),
        patch("/api/v1/conversations/{id}", conversation_state::update),
        post(
            "/api/v1/conversations/{id}/labels",
            conversation_state::add_label,
        ),
        delete(
            "/api/v1/conversations/{id}/labels/{label_id}",
            conversation_state::remove_label,
        ),
        get("/api/v1/labels", conversation_state::list_labels),
        get("/api/v1/conversations/{id}/messages", messages::list),
        post("/api/v1/conversations/{id}/messages", reply::create),
        get("/api/v1/conversations/{id}/scheduled", scheduled::list),
        post("/api/v1/conversations/{id}/scheduled", scheduled::create),
        get(
            "/api/v1/conversations/{id}/scheduled/{scheduled_id}",
            scheduled::get,
        ),
        patch(
            "/api/v1/conversations/{id}/scheduled/{scheduled_id}",
            scheduled::update,
        ),
        post(
            "/api/v1/conversations/{id}/scheduled/{scheduled_id}/cancel",
            scheduled::cancel,
        ),
        post("/api/v1/conversations/{id}/assignment", assignment::assign),
        get("/api/v1/teams", assignment::list_teams),
        get("/api/v1/availability", assignment::list_availability),
        get("/api/v1/attachments/{id}", messages::attachment),
        get("/api/v1/patients/{id}", patients::get),
        patch("/api/v1/patients/{id}", patients::write::update),
        get("/api/v1/patients", patients::list),
        post("/api/v1/patients", patients::write::create),
        post("/api/v1/patients/import", patients::import::import)
            .body_limit(patients::import::BODY_LIMIT),
        get("/api/v1/custom-fields", patients::fields::list_fields),
        post("/api/v1/custom-fields", patients::fields::create_field),
        get("/api/v1/calendar", calendar::get),
        get("/api/v1/calendar/opening", calendar::opening),
        put("/api/v1/calendar/hours", calendar::put_hours),
        post("/api/v1/calendar/closures", calendar::add_closures),
        delete("/api/v1/calendar/closures/{id}", calendar::delete_closure),
        put("/api/v1/calendar/holidays/{date}", calendar::put_holiday),
        post("/api/v1/patients/{id}/messages", consent::send),
        get("/api/v1/patients/{id}/consents", consent::list),
        post("/api/v1/patients/{id}/consents", consent::create),
        post("/api/v1/identities/{id}/link", verification::link),
        post("/api/v1/links/{id}/undo", verification::undo),
        get("/api/v1/patients/{id}/proxies", verification::list_proxies),
        post("/api/v1/patients/{id}/proxies", verification::add_proxy),
        get("/api/v1/patients/{id}/export", privacy::export_json),
        get("/api/v1/patients/{id}/export.html", privacy::export_html),
        delete("/api/v1/patients/{id}", privacy::erase),
        get("/api/v1/settings/retention", privacy::get_retention),
        put("/api/v1/settings/retention", privacy::put_retention),
        get("/api/v1/canned-responses", canned::list),
        post("/api/v1/canned-responses", canned::create),
        patch("/api/v1/canned-responses/{id}", canned::update),
        delete("/api/v1/canned-responses/{id}", canned::delete),
        get("/api/v1/satisfaction", satisfaction::results),
        get("/api/v1/satisfaction/settings", satisfaction::get_settings),
        put("/api/v1/satisfaction/settings", satisfaction::put_settings),
        get("/api/v1/automation/keyword-rules", automation::list),
        post("/api/v1/automation/keyword-rules", automation::create),
        get("/api/v1/automation/keyword-rules/{id}", automation::get),
        patch("/api/v1/automation/keyword-rules/{id}", automation::update),
        delete("/api/v1/automation/keyword-rules/{id}", automation::delete),
        get("/api/v1/automation/settings", automation_settings::get),
        put("/api/v1/automation/settings", automation_settings::put),
        get("/api/v1/automation/flows", flows::list),
        post("/api/v1/automation/flows", flows::create),
        get("/api/v1/automation/flows/{id}", flows::get),
        patch("/api/v1/automation/flows/{id}", flows::update),
        delete("/api/v1/automation/flows/{id}", flows::delete),
        post("/api/v1/automation/flows/{id}/publish", flows::publish),
        post(
            "/api/v1/automation/flows/{id}/preview",
            flow_preview::preview,
        ),
        get("/api/v1/automation/sequences", sequences::list),
        post("/api/v1/automation/sequences", sequences::create),
        get("/api/v1/automation/sequences/{id}", sequences::get),
        put("/api/v1/automation/sequences/{id}", sequences::update),
        patch("/api/v1/automation/sequences/{id}", sequences::set_enabled),
        delete("/api/v1/automation/sequences/{id}", sequences::delete),
        get(
            "/api/v1/automation/sequences/{id}/enrollments",
            sequences::enrollments,
        ),
        post(
            "/api/v1/automation/sequences/{id}/enrollments/{enrollment_id}/stop",
            sequences::stop,
        ),
        get("/api/v1/automation/sources", sources::list),
        post("/api/v1/automation/sources", sources::create),
        get("/api/v1/automation/sources/export.csv", sources::export),
        get("/api/v1/automation/sources/channels", source_channels::list),
        put(
            "/api/v1/automation/sources/channels/{id}/address",
            source_channels::set_address,
        ),
        put(
            "/api/v1/automation/sources/channels/{id}/line-login",
            source_channels::set_line_login,
        ),
        delete(
            "/api/v1/automation/sources/channels/{id}/line-login",
            source_channels::remove_line_login,
        ),
        get("/api/v1/automation/sources/{id}", sources::get),
        patch("/api/v1/automation/sources/{id}", sources::update),
        delete("/api/v1/automation/sources/{id}", sources::delete),
        get("/api/v1/automation/sources/{id}/counts", sources::counts),
        get("/api/v1/automation/sources/{id}/qr.svg", sources::qr),
        get("/api/v1/automation/rich-menus", rich_menus::list),
        post("/api/v1/automation/rich-menus", rich_menus::create)
            .body_limit(rich_menus::BODY_LIMIT),
        get("/api/v1/automation/rich-menus/{id}", rich_menus::get),
        patch("/api/v1/automation/rich-menus/{id}", rich_menus::update)
            .body_limit(rich_menus::BODY_LIMIT),
        delete("/api/v1/automation/rich-menus/{id}", rich_menus::delete),
        post(
            "/api/v1/automation/rich-menus/{id}/publish",
            rich_menus::publish,
        ),
        put(
            "/api/v1/automation/rich-menus/{id}/default",
            rich_menus::set_default,
        ),
        get("/api/v1/automation/rich-menu-rules", rich_menus::list_rules),
        post(
            "/api/v1/automation/rich-menu-rules",
            rich_menus::create_rule,
        ),
        delete(
            "/api/v1/automation/rich-menu-rules/{id}",
            rich_menus::delete_rule,
        ),
        get("/api/v1/automation/event-rules", event_rules::list),
        post("/api/v1/automation/event-rules", event_rules::create),
        put("/api/v1/automation/event-rules/order", event_rules::reorder),
        get("/api/v1/automation/event-rules/{id}", event_rules::get),
        put("/api/v1/automation/event-rules/{id}", event_rules::update),
        delete("/api/v1/automation/event-rules/{id}", event_rules::delete),
        get("/api/v1/automation/faq-menu", faq_menu::get),
        put("/api/v1/automation/faq-menu", faq_menu::put),
    ]
}

/// The mounted `(method, path)` pairs, paths in OpenAPI/axum `{param}` form.
pub fn routes() -> Vec<(&'static str, &'static str)> {
    operations()
        .into_iter()
        .map(|o| (o.method, o.path))
        .collect()
}

pub fn router() -> Router<AppState> {
    let mut r = Router::new();
    for op in operations() {
        r = r.route(op.path, op.route);
    }
    // Unknown API paths and wrong methods answer in the API's error envelope, not plain text.
    r.method_not_allowed_fallback(method_not_allowed)
        .route("/api/v1/{*rest}", routing::any(unknown_route))
}

async fn unknown_route() -> ApiError {
    ApiError::not_found()
}

async fn method_not_allowed() -> ApiError {
    Refusal::new(Code::MethodNotAllowed)
        .detail("This path does not accept that method.")
        .into()
}

/// A pooled connection for reads (writes go through `Db::begin`).
pub(crate) async fn read_conn(state: &AppState) -> Result<PoolConnection<Any>, ApiError> {
    Ok(state
        .db
        .pool()
        .acquire()
        .await
        .map_err(|e| anyhow::Error::new(e).context("acquiring a database connection"))?)
}

/// The clinic's time zone (Tokyo when the stored name is not one chrono-tz knows), for dates a
/// caller gives in clinic-local time.
pub(crate) async fn clinic_zone(
    conn: &mut sqlx::AnyConnection,
    clinic: &tsunagu_core::ClinicId,
) -> Result<chrono_tz::Tz, ApiError> {
    let c = tsunagu_store::clinics::by_id(conn, clinic)
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok(c.timezone.parse().unwrap_or(chrono_tz::Asia::Tokyo))
}
