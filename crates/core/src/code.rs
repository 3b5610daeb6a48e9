//! Every stable code tsunagu emits: API `error.code`, refusals shown on staff pages, field and
//! import errors, the outbox's dead letters (`messages.failure_code`). The wire form is
//! snake_case and never changes; the words are in the web catalogs (`code.<code>`, ja and en),
//! and a test there fails for a code without both.
use serde::{Deserialize, Serialize};

/// Declares the enum, its wire names and `ALL` from one list, so a code cannot be added without
/// its name or left out of `ALL` (which the catalog test walks).
macro_rules! codes {
    ($( $(#[$doc:meta])* $variant:ident = $wire:literal, )+) => {
        /// A stable reason code (snake_case on the wire).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(rename_all = "snake_case")]
        pub enum Code {
            $( $(#[$doc])* $variant, )+
        }

        impl Code {
            /// Every code, in declaration order.
            pub const ALL: &'static [Code] = &[ $( Code::$variant, )+ ];

            /// The wire name, e.g. `recipient_opted_out`.
            pub fn as_str(self) -> &'static str {
                match self {
                    $( Code::$variant => $wire, )+
                }
            }
        }
    };
}

codes! {
    // Requests to the API and staff pages.
    NotFound = "not_found",
    Forbidden = "forbidden",
    Unauthorized = "unauthorized",
    /// Our fault; the details are logged, never shown.
    Internal = "internal",
    BadRequest = "bad_request",
    InvalidRequest = "invalid_request",
    MalformedJson = "malformed_json",
    UnsupportedMediaType = "unsupported_media_type",
    PayloadTooLarge = "payload_too_large",
    MethodNotAllowed = "method_not_allowed",
    /// A staff form whose CSRF token is missing or stale.
    Csrf = "csrf",
    InvalidLimit = "invalid_limit",
    InvalidCursor = "invalid_cursor",
    /// A search with nothing to look for (empty, or only spaces).
    SearchQueryEmpty = "search_query_empty",
    /// A search longer than `inbox::search::MAX_QUERY_CHARS`.
    SearchQueryTooLong = "search_query_too_long",
    /// A search facet that is not one of its values (a date, a status, a priority).
    InvalidSearchFilter = "invalid_search_filter",
    InvalidIdempotencyKey = "invalid_idempotency_key",
    IdempotencyKeyReused = "idempotency_key_reused",
    IdempotencyKeyInProgress = "idempotency_key_in_progress",
    /// An API token whose scopes may not send this purpose.
    ScopeForbidsPurpose = "scope_forbids_purpose",
    /// A staff role that may not send this purpose.
    PurposeNotAllowed = "purpose_not_allowed",

    // Queuing a message (staff replies, purpose messages, automated answers).
    EmptyMessage = "empty_message",
    MessageTooLong = "message_too_long",
    MessageCount = "message_count",
    RecipientBlocked = "recipient_blocked",
    RecipientOptedOut = "recipient_opted_out",
    RecipientBounced = "recipient_bounced",
    OutsideServiceWindow = "outside_service_window",
    ChannelDisabled = "channel_disabled",
    /// A channel row of a kind this build does not know: refused, never sent unchecked.
    ChannelKindUnknown = "channel_kind_unknown",
    NoReachableChannel = "no_reachable_channel",
    NoReplyToken = "no_reply_token",
    ReplyTokenUsed = "reply_token_used",
    TemplateInvalid = "template_invalid",
    UnsupportedContent = "unsupported_content",

    // The consent ledger.
    ConsentRequired = "consent_required",
    ConsentWithdrawn = "consent_withdrawn",
    OutsideReplyWindow = "outside_reply_window",
    InvalidPurpose = "invalid_purpose",
    InvalidSource = "invalid_source",
    WordingRequired = "wording_required",
    ReasonRequired = "reason_required",
    UnknownChannel = "unknown_channel",

    // Delivery: why the outbox gave a message up (dead letter) or cannot tell (in doubt).
    InDoubt = "in_doubt",
    RejectedByProvider = "rejected_by_provider",
    RecipientUndeliverable = "recipient_undeliverable",
    RecipientUnavailable = "recipient_unavailable",
    TemplateRejected = "template_rejected",
    ProviderAuthFailed = "provider_auth_failed",
    QuotaExceeded = "quota_exceeded",
    ReplyTokenExpired = "reply_token_expired",
    ReplyTokenInvalid = "reply_token_invalid",
    NoSender = "no_sender",
    InvalidMessage = "invalid_message",
    ContentUnavailable = "content_unavailable",
    ChannelMissing = "channel_missing",
    UnsupportedChannelKind = "unsupported_channel_kind",
    ProfileUnavailable = "profile_unavailable",
    NoWabaId = "no_waba_id",
    UnknownJob = "unknown_job",
    InvalidJobPayload = "invalid_job_payload",
    RetriesExhausted = "retries_exhausted",
    /// The outbound guard refused a provider address (private, loopback, plain http…).
    OutboundAddressRefused = "outbound_address_refused",

    // Connecting channels.
    InvalidKind = "invalid_kind",
    InvalidChannelName = "invalid_channel_name",
    InvalidBaseUrl = "invalid_base_url",
    InvalidCredentials = "invalid_credentials",
    InvalidPages = "invalid_pages",
    TemplatesUnsupported = "templates_unsupported",

    // WhatsApp message templates.
    InvalidTemplateName = "invalid_template_name",
    InvalidTemplateLanguage = "invalid_template_language",
    InvalidTemplateCategory = "invalid_template_category",
    InvalidTemplateBody = "invalid_template_body",
    InvalidTemplatePlaceholders = "invalid_template_placeholders",
    InvalidTemplateStatus = "invalid_template_status",
    InvalidTemplateParam = "invalid_template_param",
    TemplateExists = "template_exists",
    TemplateNotApproved = "template_not_approved",
    TemplateParamCount = "template_param_count",

    // Canned responses (定型文).
    InvalidCannedShortcut = "invalid_canned_shortcut",
    InvalidCannedTitle = "invalid_canned_title",
    InvalidCannedBody = "invalid_canned_body",
    UnknownCannedVariable = "unknown_canned_variable",
    CannedShortcutExists = "canned_shortcut_exists",
    InvalidClinicPhone = "invalid_clinic_phone",

    // Automation (自動応答): keyword rules, the away message, greetings, escape words.
    InvalidKeywordRuleName = "invalid_keyword_rule_name",
    KeywordRuleKeywordsRequired = "keyword_rule_keywords_required",
    InvalidKeywordPattern = "invalid_keyword_pattern",
    InvalidAutomationText = "invalid_automation_text",
    InvalidAutomationNumber = "invalid_automation_number",
    InvalidEscapeWords = "invalid_escape_words",
    // Automation over the API: flows and step sequences.
    InvalidFlowName = "invalid_flow_name",
    /// The flow's definition is not the JSON the builder saves (format 1).
    InvalidFlowDefinition = "invalid_flow_definition",
    /// Publishing a draft the checks refuse; the problems are in the detail.
    FlowHasProblems = "flow_has_problems",
    /// A sequence draft the checks refuse; `what` says which part.
    InvalidSequence = "invalid_sequence",
    /// Stopping an enrollment that already completed or stopped.
    EnrollmentNotActive = "enrollment_not_active",
    /// An inflow source without a name (1–30 characters).
    InvalidInflowSource = "invalid_inflow_source",
    /// A channel's public address for source links that does not fit its kind (LINE `@…`, a
    /// number, a Page username).
    InvalidSourceAddress = "invalid_source_address",
    /// An event rule (自動ルール) that cannot work; the arg `why` names the part.
    InvalidEventRule = "invalid_event_rule",
    /// The FAQ menu (よくある質問メニュー): `{what}` names the problem.
    InvalidFaqMenu = "invalid_faq_menu",

    // Patient records and custom fields.
    InvalidPatient = "invalid_patient",
    NameRequired = "name_required",
    TooLong = "too_long",
    InvalidPhoneNumber = "invalid_phone_number",
    /// A LINE Login channel id (digits) or secret (32 hex characters) that cannot be right.
    InvalidLineLogin = "invalid_line_login",
    InvalidEmail = "invalid_email",
    InvalidBirthDate = "invalid_birth_date",
    InvalidKana = "invalid_kana",
    InvalidCardNumber = "invalid_card_number",
    InvalidSex = "invalid_sex",
    InvalidLanguage = "invalid_language",
    InvalidChannel = "invalid_channel",
    InvalidTag = "invalid_tag",
    TooManyTags = "too_many_tags",
    DuplicateCardNumber = "duplicate_card_number",
    UnknownField = "unknown_field",
    FieldRequired = "field_required",
    InvalidNumber = "invalid_number",
    InvalidDate = "invalid_date",
    InvalidChoice = "invalid_choice",
    InvalidCustomField = "invalid_custom_field",
    InvalidFieldKey = "invalid_field_key",
    ReservedFieldKey = "reserved_field_key",
    DuplicateFieldKey = "duplicate_field_key",
    InvalidLabel = "invalid_label",
    InvalidFieldKind = "invalid_field_kind",
    InvalidChoices = "invalid_choices",

    // CSV import.
    ImportHasErrors = "import_has_errors",
    ImportPlanChanged = "import_plan_changed",
    UnknownColumn = "unknown_column",
    DuplicateColumn = "duplicate_column",
    MissingColumn = "missing_column",
    TooManyRows = "too_many_rows",
    MalformedCsv = "malformed_csv",
    UnreadableEncoding = "unreadable_encoding",
    FileTooLarge = "file_too_large",
    DuplicateCardNumberInFile = "duplicate_card_number_in_file",

    // Identities, links and proxies.
    UnknownIdentity = "unknown_identity",
    UnknownPatient = "unknown_patient",
    AlreadyLinked = "already_linked",
    UnknownLink = "unknown_link",
    AlreadyUndone = "already_undone",
    NotLatestLink = "not_latest_link",
    InvalidRelationship = "invalid_relationship",
    UnknownProxy = "unknown_proxy",
    InvalidProxy = "invalid_proxy",
    NotLocked = "not_locked",
    AlreadyRevoked = "already_revoked",

    // Retention settings.
    InvalidRawWebhookBodyDays = "invalid_raw_webhook_body_days",
    InvalidConversationYears = "invalid_conversation_years",

    // The clinic calendar.
    InvalidTime = "invalid_time",
    InvalidInterval = "invalid_interval",
    OverlappingIntervals = "overlapping_intervals",
    TooManyIntervals = "too_many_intervals",
    InvalidDateRange = "invalid_date_range",
    InvalidReason = "invalid_reason",
    InvalidTimezone = "invalid_timezone",
    NotAHoliday = "not_a_holiday",
    ClosureExists = "closure_exists",

    // Staff accounts.
    PasswordTooShort = "password_too_short",
    PasswordTooLong = "password_too_long",

    // Scheduled messages.
    ScheduledTimePast = "scheduled_time_past",
    ScheduledTooFar = "scheduled_too_far",
    /// It already left, was refused at its time, or was cancelled.
    ScheduledNotEditable = "scheduled_not_editable",
    InvalidScheduleTime = "invalid_schedule_time",

    // LINE rich menus.
    RichMenuSizeInvalid = "rich_menu_size_invalid",
    RichMenuImageSizeMismatch = "rich_menu_image_size_mismatch",
    RichMenuImageType = "rich_menu_image_type",
    RichMenuImageTooLarge = "rich_menu_image_too_large",
    RichMenuImageMissing = "rich_menu_image_missing",
    RichMenuAreasInvalid = "rich_menu_areas_invalid",
    RichMenuActionInvalid = "rich_menu_action_invalid",
    RichMenuTextInvalid = "rich_menu_text_invalid",
    RichMenuAliasExists = "rich_menu_alias_exists",
    RichMenuRuleExists = "rich_menu_rule_exists",
    RichMenuNotPublished = "rich_menu_not_published",
    /// LINE refused the menu (a 4xx): its details are in the job's error.
    RichMenuRejected = "rich_menu_rejected",
    RichMenuChannelNotLine = "rich_menu_channel_not_line",
}

impl Code {
    /// The code for a wire name; `None` for anything else (a provider's own number, a code an
    /// older version stored), so callers fall back explicitly.
    pub fn parse(s: &str) -> Option<Code> {
        Code::ALL.iter().copied().find(|c| c.as_str() == s)
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Lets tests and logs compare with the wire name directly.
impl PartialEq<&str> for Code {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<Code> for &str {
    fn eq(&self, other: &Code) -> bool {
        *self == other.as_str()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wire_name_is_the_serde_name_and_parses_back() {
        for &c in Code::ALL {
            let json = serde_json::to_string(&c).unwrap_or_default();
            assert_eq!(json, format!("\"{}\"", c.as_str()), "{c:?}");
            assert_eq!(serde_json::from_str::<Code>(&json).ok(), Some(c));
            assert_eq!(Code::parse(c.as_str()), Some(c));
        }
    }

    #[test]
    fn wire_names_are_unique_snake_case() {
        let mut seen = std::collections::HashSet::new();
        for &c in Code::ALL {
            let s = c.as_str();
            assert!(seen.insert(s), "{s} twice");
            let snake = !s.is_empty()
                && !s.starts_with('_')
                && !s.ends_with('_')
                && s.chars().all(|ch| ch.is_ascii_lowercase() || ch == '_');
            assert!(snake, "{s} is not snake_case");
        }
    }

    #[test]
    fn an_unknown_name_is_not_a_code() {
        assert_eq!(Code::parse("131047"), None);
        assert_eq!(Code::parse("Not_Found"), None);
        assert_eq!(
            Code::parse("recipient_opted_out"),
            Some(Code::RecipientOptedOut)
        );
        assert!(Code::RecipientOptedOut == "recipient_opted_out");
    }
}
