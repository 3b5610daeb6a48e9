//! The OpenAPI 3.1 document of `/api/v1`, served at `/api/v1/openapi.json`. Every handler
//! carries `#[utoipa::path]`; a test checks the document against the mounted routes.
use axum::Json;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::idempotent::KeyResponses;
use super::{
    assignment, automation, calendar, canned, channels, consent, conversation_state, conversations,
    event_rules, extract, faq_menu, messages, patients, privacy, reply, reply_content,
    satisfaction, scheduled, search, template_sync, templates, verification,
};
use super::{
    automation_settings, flow_preview, flows, rich_menus, sequences, source_channels, sources,
};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "tsunagu API",
        version = "1",
        description = "Patient communication for clinics. Authenticate with `Authorization: Bearer tsu_…` \
            (create tokens with `tsunagu token create --clinic SLUG --name NAME --scope read`). A token \
            acts only within its clinic. Token scopes grant permissions: `admin` everything; `read` \
            read_patients, read_messages, read_figures; `reply` read_patients, read_messages, reply; \
            `broadcast` read_patients, broadcast. Each operation names the permission it needs; a message \
            for a purpose needs `reply` for `care`, `broadcast` for `health_information`, `marketing` and \
            `photo_publication`, either for `reminders`. Every POST takes an `Idempotency-Key`. Errors \
            are `{\"error\": {\"code\": \"snake_case_key\", \"message\": \"…\"}}`. Lists take `limit` \
            (1–100, default 50) and `cursor`, and return `{items, next_cursor}` (null on the last page). \
            Reads of patient data are recorded in the clinic's audit trail."
    ),
    paths(
        openapi_json,
        channels::create,
        channels::list,
        templates::list,
        templates::create,
        templates::update,
        template_sync::sync,
        conversations::list,
        search::search,
        conversation_state::update,
        conversation_state::list_labels,
        conversation_state::add_label,
        conversation_state::remove_label,
        messages::list,
        reply::create,
        scheduled::list,
        scheduled::get,
        scheduled::create,
        scheduled::update,
        scheduled::cancel,
        assignment::assign,
        assignment::list_teams,
        assignment::list_availability,
        messages::attachment,
        patients::get,
        patients::list,
        patients::write::create,
        patients::write::update,
        patients::import::import,
        patients::fields::list_fields,
        patients::fields::create_field,
        calendar::opening,
        calendar::get,
        calendar::put_hours,
        calendar::add_closures,
        calendar::delete_closure,
        calendar::put_holiday,
        consent::send,
        consent::list,
        consent::create,
        verification::link,
        verification::undo,
        verification::list_proxies,
        verification::add_proxy,
        privacy::export_json,
        privacy::export_html,
        privacy::erase,
        privacy::get_retention,
        privacy::put_retention,
        canned::list,
        canned::create,
        canned::update,
        canned::delete,
        satisfaction::results,
        satisfaction::get_settings,
        satisfaction::put_settings,
        automation::list,
        automation::create,
        automation::get,
        automation::update,
        automation::delete,
        automation_settings::get,
        automation_settings::put,
        flows::list,
        flows::create,
        flows::get,
        flows::update,
        flows::delete,
        flows::publish,
        flow_preview::preview,
        sequences::list,
        sequences::create,
        sequences::get,
        sequences::update,
        sequences::set_enabled,
        sequences::delete,
        sequences::enrollments,
        sequences::stop,
        sources::list,
        sources::create,
        sources::export,
        sources::get,
        sources::update,
        sources::delete,
        sources::counts,
        sources::qr,
        source_channels::list,
        source_channels::set_address,
        source_channels::set_line_login,
        source_channels::remove_line_login,
        rich_menus::list,
        rich_menus::create,
        rich_menus::get,
        rich_menus::update,
        rich_menus::delete,
        rich_menus::publish,
        rich_menus::set_default,
        rich_menus::list_rules,
        rich_menus::create_rule,
        rich_menus::delete_rule,
        event_rules::list,
        event_rules::create,
        event_rules::reorder,
        event_rules::get,
        event_rules::update,
        event_rules::delete,
        faq_menu::get,
        faq_menu::put,
    ),
    components(schemas(
        extract::ErrorBody,
        extract::ErrorDetail,
        assignment::StaffAvailability,
        assignment::TeamOut,
        assignment::TeamList,
        assignment::AvailabilityList,
        assignment::AssignmentRequest,
        assignment::AssignmentOut,
        channels::CreateChannel,
        channels::CreatedChannel,
        channels::ChannelOut,
        channels::ChannelPage,
        templates::CreateTemplate,
        templates::PatchTemplate,
        templates::TemplateOut,
        templates::TemplateList,
        template_sync::SyncQueued,
        conversations::ConversationOut,
        conversations::ConversationPage,
        conversations::ServiceLevelOut,
        search::MessageHitOut,
        search::NoteHitOut,
        scheduled::ScheduledOut,
        scheduled::ScheduledList,
        scheduled::ScheduleRequest,
        scheduled::SchedulePatch,
        search::PatientHitOut,
        search::SearchPage,
        conversations::LabelOut,
        conversation_state::ConversationPatch,
        conversation_state::LabelRef,
        messages::MessageOut,
        messages::TriageOut,
        messages::AttachmentRef,
        messages::MessagePage,
        reply::ReplyRequest,
        reply::TemplateSend,
        reply_content::MediaSend,
        reply_content::ButtonsSend,
        reply_content::ListSend,
        reply_content::SectionIn,
        reply_content::ChoiceIn,
        patients::PatientOut,
        patients::IdentityOut,
        patients::reach::ReachabilityOut,
        patients::PatientListItem,
        patients::PatientPage,
        patients::FieldErrorOut,
        patients::InvalidBody,
        patients::InvalidDetail,
        patients::write::PatientBody,
        patients::import::ImportOut,
        patients::import::ImportRow,
        patients::import::ImportSummary,
        patients::import::CellErrorOut,
        patients::import::ImportRefused,
        patients::fields::CustomFieldOut,
        patients::fields::CustomFieldPage,
        patients::fields::NewCustomField,
        canned::CannedIn,
        canned::CannedPatch,
        canned::CannedOut,
        canned::CannedList,
        satisfaction::FiguresOut,
        satisfaction::GroupOut,
        satisfaction::SatisfactionResults,
        satisfaction::SatisfactionSettings,
        automation::KeywordRuleIn,
        automation::KeywordRulePatch,
        automation::KeywordRuleOut,
        automation::KeywordRuleList,
        automation_settings::AwayIo,
        automation_settings::GreetingIo,
        automation_settings::AutomationSettingsOut,
        automation_settings::AutomationSettingsIn,
        flows::FlowIn,
        flows::FlowPatch,
        flows::FlowProblem,
        flows::FlowVersionOut,
        flows::FlowOut,
        flows::FlowSummary,
        flows::FlowList,
        flow_preview::PreviewIn,
        flow_preview::PreviewAction,
        flow_preview::PreviewTurn,
        flow_preview::PreviewOut,
        sequences::StepIo,
        sequences::TriggerIo,
        sequences::SequenceIn,
        sequences::SequenceOut,
        sequences::SequenceList,
        sequences::EnabledIn,
        sequences::EnrollmentOut,
        sequences::EnrollmentList,
        sources::SourceIn,
        sources::SourcePatch,
        sources::SourceOut,
        sources::SourceList,
        sources::DayCount,
        sources::DayCounts,
        source_channels::SourceChannel,
        source_channels::SourceChannelList,
        source_channels::AddressIn,
        source_channels::LineLoginIn,
        rich_menus::RichMenuIn,
        rich_menus::RichMenuPatch,
        rich_menus::DefaultIn,
        rich_menus::RichMenuOut,
        rich_menus::RichMenuList,
        rich_menus::RichMenuRuleIn,
        rich_menus::RichMenuRuleOut,
        rich_menus::RichMenuRuleList,
        event_rules::EventRuleIn,
        event_rules::EventRuleOut,
        event_rules::EventRuleList,
        event_rules::EventRuleOrder,
        faq_menu::FaqItem,
        faq_menu::FaqMenuDoc,
        calendar::OpeningOut,
        calendar::IntervalIo,
        calendar::WeekIo,
        calendar::HoursIn,
        calendar::ClosureIn,
        calendar::ClosureOut,
        calendar::ClosureList,
        calendar::HolidayIn,
        calendar::HolidayOut,
        calendar::CalendarOut,
        consent::PurposeMessage,
        consent::NewConsentEntry,
        consent::ConsentEventOut,
        consent::ConsentStateOut,
        consent::ConsentsOut,
        verification::LinkRequest,
        verification::LinkOut,
        verification::ProxyRequest,
        verification::ProxyOut,
        verification::ProxyList,
        privacy::PatientExportOut,
        privacy::EraseRequest,
        privacy::ErasureOut,
        privacy::RetentionIo,
    )),
    modifiers(&BearerAuth, &KeyResponses, &ProviderSchemas),
    security(("bearer" = [])),
    tags(
        (name = "channels", description = "Provider accounts of the clinic (administer)"),
        (name = "conversations", description = "The inbox"),
        (name = "messages", description = "Messages, replies and attachments"),
        (name = "patients", description = "Patient records"),
        (name = "calendar", description = "Opening hours, closures and national holidays"),
        (name = "canned", description = "Canned responses (定型文) staff pick in the reply box by typing `/`"),
        (name = "automation", description = "Automation (自動応答): keyword rules that answer patients' routine questions"),
        (name = "satisfaction", description = "Satisfaction survey (満足度アンケート) after a resolved conversation: settings and results"),
        (name = "automation", description = "Automation (自動応答): keyword rules that answer patients' routine questions; event rules (自動ルール) that act when something happens"),
        (name = "privacy", description = "Patient export and erasure, retention settings"),
        (name = "meta", description = "This document"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("tsu_<43 characters>")
                    .description(Some(
                        "An API token of one clinic, created with `tsunagu token create`.",
                    ))
                    .build(),
            ),
        );
    }
}

/// Each provider's `credentials` input for `POST /api/v1/channels` (`LineCredentials`, …), as
/// its adapter documents it: a new provider's schema comes with its registry line.
struct ProviderSchemas;

impl Modify for ProviderSchemas {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let mut schemas = Vec::new();
        for adapter in tsunagu_channels::provider::adapters() {
            adapter.setup_schemas(&mut schemas);
        }
        let components = openapi.components.get_or_insert_with(Default::default);
        components.schemas.extend(schemas);
    }
}

/// The document itself.
pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

/// This OpenAPI document.
///
/// No token needed: the document holds no clinic data.
#[utoipa::path(
    get,
    path = "/api/v1/openapi.json",
    tag = "meta",
    security(()),
    responses((status = 200, description = "The OpenAPI 3.1 document", content_type = "application/json"))
)]
pub async fn openapi_json() -> Json<utoipa::openapi::OpenApi> {
    Json(document())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_providers_setup_input_is_documented_under_its_name() {
        let doc = serde_json::to_value(document()).unwrap_or_default();
        let schemas = &doc["components"]["schemas"];
        for name in [
            "LineCredentials",
            "WhatsAppCredentials",
            "WhatsAppNumber",
            "MessengerCredentials",
            "MessengerPage",
            "TwilioCredentials",
        ] {
            assert!(schemas[name]["properties"].is_object(), "{name}");
        }
        assert!(schemas["CreateChannel"].is_object());
    }
}
