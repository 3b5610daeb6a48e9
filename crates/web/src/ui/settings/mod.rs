//! Clinic settings, for owners and admins (everyone else gets 403): the clinic calendar at
//! `/app/settings/calendar`, the channels at `/app/settings/channels` and each WhatsApp channel's
//! message templates, the teams at `/app/settings/teams` (members, automatic assignment,
//! capacity, each channel's team), the canned responses at `/app/settings/canned`, the
//! conversation labels at `/app/settings/labels`, the service levels (返信期限・解決期限) at
//! `/app/settings/service-levels`, automation (自動応答: keyword rules, away message, greetings,
//! escape words) at `/app/settings/automation`, the FAQ menu (よくある質問メニュー) at
//! `/app/settings/faq-menu`, the LINE rich menus at `/app/settings/rich-menus`,
//! the dialogue flows (フロー) at `/app/settings/flows`, safety (緊急対応: guidance, crisis lines,
//! escalation, triage rules and phrases) at `/app/settings/safety`, the on-call rota at
//! `/app/settings/on-call`, event rules (自動ルール) at `/app/settings/event-rules`, step
//! sequences (ステップ配信) at `/app/settings/sequences`, where patients come from (流入経路,
//! QR posters) at `/app/settings/sources` and the satisfaction survey (満足度アンケート) at
//! `/app/settings/satisfaction`. Forms post back here and redirect to the page
//! (or re-render it with the error and what was typed); every change commits with its audit
//! entry.
mod automation;
mod calendar;
mod calendar_view;
mod canned;
mod channel_read_marks;
mod channel_templates;
mod channels;
mod channels_form;
mod event_rule_form;
mod event_rules;
mod faq_menu;
mod flow_preview;
mod flow_steps;
pub(crate) mod flows;
mod labels;
mod on_call;
mod rich_menu_edit;
mod rich_menu_field_rules;
mod rich_menus;
mod safety;
mod satisfaction;
mod sequence_form;
mod sequences;
mod service_levels;
mod source_edit;
mod source_login;
pub(crate) mod sources;
mod team_members;
mod teams;

use axum::response::Redirect;
use axum::routing::{get, post};
use axum::Router;

use crate::client_ip::ClientIp;
use crate::ui::render;
use crate::ui::session::Staff;
use crate::{AppState, PageError};

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/app/settings",
            get(|| async { Redirect::to("/app/settings/calendar") }),
        )
        .route("/app/settings/calendar", get(calendar::page))
        .route(
            "/app/settings/satisfaction",
            get(satisfaction::page).post(satisfaction::save),
        )
        .route("/app/settings/calendar/hours", post(calendar::save_hours))
        .route(
            "/app/settings/calendar/closures",
            post(calendar::add_closure),
        )
        .route(
            "/app/settings/calendar/closures/{id}/delete",
            post(calendar::delete_closure),
        )
        .route(
            "/app/settings/calendar/holidays/{date}",
            post(calendar::set_holiday),
        )
        .route(
            "/app/settings/channels",
            get(channels::page).post(channels::create),
        )
        // Canned responses (定型文) and the clinic phone number they can quote.
        .route(
            "/app/settings/canned",
            get(canned::page).post(canned::create),
        )
        .route("/app/settings/canned/phone", post(canned::set_phone))
        .route("/app/settings/canned/{id}", post(canned::update))
        .route("/app/settings/canned/{id}/delete", post(canned::delete))
        .route(
            "/app/settings/labels",
            get(labels::page).post(labels::create),
        )
        .route("/app/settings/labels/{id}/delete", post(labels::delete))
        .route("/app/settings/automation", get(automation::page))
        .route(
            "/app/settings/automation/rules",
            post(automation::create_rule),
        )
        .route(
            "/app/settings/automation/rules/{id}",
            post(automation::update_rule),
        )
        .route(
            "/app/settings/automation/rules/{id}/enabled",
            post(automation::enable_rule),
        )
        .route(
            "/app/settings/automation/rules/{id}/delete",
            post(automation::delete_rule),
        )
        .route(
            "/app/settings/automation/settings",
            post(automation::save_settings),
        )
        .route(
            "/app/settings/automation/greetings/{channel_id}",
            post(automation::save_greeting),
        )
        // The FAQ menu (よくある質問メニュー).
        .route(
            "/app/settings/faq-menu",
            get(faq_menu::page).post(faq_menu::save),
        )
        // Flows (フロー): the list, each flow's settings, step cards and preview.
        .route("/app/settings/flows", get(flows::page).post(flows::create))
        .route("/app/settings/flows/sample", post(flows::create_sample))
        .route(
            "/app/settings/flows/{id}",
            get(flow_steps::page).post(flows::save_settings),
        )
        .route("/app/settings/flows/{id}/publish", post(flows::publish))
        .route("/app/settings/flows/{id}/enabled", post(flows::set_enabled))
        .route("/app/settings/flows/{id}/delete", post(flows::delete))
        .route(
            "/app/settings/flows/{id}/preview",
            post(flow_preview::preview),
        )
        .route("/app/settings/flows/{id}/steps", post(flow_steps::add))
        .route("/app/settings/flows/{id}/steps/{n}", post(flow_steps::save))
        .route(
            "/app/settings/flows/{id}/steps/{n}/up",
            post(flow_steps::move_up),
        )
        .route(
            "/app/settings/flows/{id}/steps/{n}/down",
            post(flow_steps::move_down),
        )
        .route(
            "/app/settings/flows/{id}/steps/{n}/delete",
            post(flow_steps::remove),
        )
        // LINE rich menus (リッチメニュー).
        .route(
            "/app/settings/rich-menus",
            get(rich_menus::page).post(rich_menus::create),
        )
        .route("/app/settings/rich-menus/rules", post(rich_menus::add_rule))
        // Event rules (自動ルール).
        .route(
            "/app/settings/event-rules",
            get(event_rules::list).post(event_rules::create),
        )
        .route("/app/settings/event-rules/new", get(event_rules::new_page))
        .route(
            "/app/settings/event-rules/{id}",
            get(event_rules::page).post(event_rules::update),
        )
        .route(
            "/app/settings/event-rules/{id}/enabled",
            post(event_rules::set_enabled),
        )
        .route(
            "/app/settings/event-rules/{id}/move",
            post(event_rules::shift),
        )
        .route(
            "/app/settings/event-rules/{id}/delete",
            post(event_rules::delete),
        )
        .route(
            "/app/settings/rich-menus/field-rules",
            post(rich_menu_field_rules::add),
        )
        .route(
            "/app/settings/rich-menus/field-rules/{id}/delete",
            post(rich_menu_field_rules::delete),
        )
        // Step sequences (ステップ配信).
        .route(
            "/app/settings/sequences",
            get(sequences::list).post(sequences::create),
        )
        .route("/app/settings/sequences/new", get(sequences::new_page))
        .route(
            "/app/settings/sequences/{id}",
            get(sequences::page).post(sequences::update),
        )
        .route(
            "/app/settings/sequences/{id}/enabled",
            post(sequences::set_enabled),
        )
        .route(
            "/app/settings/sequences/{id}/enrollments/{enrollment}/stop",
            post(sequences::stop),
        )
        // Where patients come from (流入経路) and their QR posters.
        .route(
            "/app/settings/sources",
            get(sources::page).post(sources::create),
        )
        .route(
            "/app/settings/sources/channels/{channel}/address",
            post(sources::set_address),
        )
        .route(
            "/app/settings/sources/channels/{channel}/line-login",
            post(source_login::set_login),
        )
        .route(
            "/app/settings/sources/channels/{channel}/line-login/remove",
            post(source_login::remove_login),
        )
        .route("/app/settings/sources/sources.csv", get(sources::export))
        .route("/app/settings/sources/{id}/print", get(sources::print))
        .route("/app/settings/sources/{id}/qr.svg", get(sources::qr))
        .route(
            "/app/settings/sources/{id}/edit",
            get(source_edit::page).post(source_edit::update),
        )
        .route(
            "/app/settings/sources/{id}/delete",
            post(source_edit::delete),
        )
        .route(
            "/app/settings/rich-menus/rules/{id}/delete",
            post(rich_menus::delete_rule),
        )
        .route(
            "/app/settings/rich-menus/{id}",
            get(rich_menu_edit::page).post(rich_menu_edit::update),
        )
        .route(
            "/app/settings/rich-menus/{id}/image",
            get(rich_menu_edit::image).post(rich_menu_edit::upload),
        )
        .route(
            "/app/settings/rich-menus/{id}/areas",
            post(rich_menu_edit::save_areas),
        )
        .route(
            "/app/settings/rich-menus/{id}/publish",
            post(rich_menu_edit::publish),
        )
        .route(
            "/app/settings/rich-menus/{id}/default",
            post(rich_menu_edit::set_default),
        )
        .route(
            "/app/settings/rich-menus/{id}/delete",
            post(rich_menu_edit::delete),
        )
        // Safety (緊急対応) and the on-call rota (オンコール当番).
        .route("/app/settings/safety", get(safety::page).post(safety::save))
        .route("/app/settings/safety/rules/{id}", post(safety::set_rule))
        .route("/app/settings/safety/phrases", post(safety::add_phrase))
        .route(
            "/app/settings/safety/phrases/{id}/delete",
            post(safety::remove_phrase),
        )
        .route(
            "/app/settings/on-call",
            get(on_call::page).post(on_call::add),
        )
        .route("/app/settings/on-call/{id}/delete", post(on_call::remove))
        .route(
            "/app/settings/service-levels",
            get(service_levels::page).post(service_levels::save),
        )
        .route(
            "/app/settings/channels/{id}/enabled",
            post(channels::enable),
        )
        .route(
            "/app/settings/channels/{id}/mark-read",
            post(channel_read_marks::set),
        )
        .route(
            "/app/settings/channels/{id}/templates",
            get(channel_templates::page).post(channel_templates::create),
        )
        .route(
            "/app/settings/channels/{id}/templates/sync",
            post(channel_templates::sync),
        )
        .route(
            "/app/settings/channels/{id}/templates/{template_id}/status",
            post(channel_templates::set_status),
        )
        .route(
            "/app/settings/channels/{id}/templates/{template_id}/delete",
            post(channel_templates::delete),
        )
        .route("/app/settings/teams", get(teams::page).post(teams::create))
        .route("/app/settings/teams/{id}", post(teams::update))
        .route("/app/settings/teams/{id}/delete", post(teams::delete))
        .route(
            "/app/settings/teams/{id}/members",
            post(team_members::add_member),
        )
        .route(
            "/app/settings/teams/{id}/members/{staff_id}/delete",
            post(team_members::remove_member),
        )
        .route(
            "/app/settings/staff/{staff_id}/capacity",
            post(team_members::set_capacity),
        )
        .route(
            "/app/settings/channels/{id}/team",
            post(team_members::set_channel_team),
        )
}

/// Who changed a setting, as stored beside it.
fn actor_ref(staff: &Staff) -> String {
    format!("staff:{}", staff.staff_id)
}

/// Records a change inside the transaction that made it.
async fn audit_change(
    tx: &mut tsunagu_store::Tx,
    state: &AppState,
    staff: &Staff,
    ip: &ClientIp,
    action: &str,
    subject: (&str, &[&str]),
) -> Result<(), PageError> {
    crate::ui::audit_staff(Some(tx), state, staff, ip, (action, subject.0), subject.1).await
}
