-- The FAQ menu (よくある質問メニュー, issue 12 item 3), owned by `automation::faq`: questions
-- with the clinic's written answers, offered on a keyword, a rich menu area or with the
-- greeting, rendered natively per channel. One menu per clinic.
CREATE TABLE automation_faq_menus (
    clinic_id TEXT PRIMARY KEY REFERENCES clinics(id),
    -- The text above the choices.
    intro_text TEXT NOT NULL,
    -- The channel kinds it is offered on, comma separated (line,whatsapp,messenger,sms).
    channels TEXT NOT NULL,
    -- Offered right after the greeting on friend-add / first contact.
    in_greeting INTEGER NOT NULL DEFAULT 0,
    updated_at INTEGER NOT NULL
);

CREATE TABLE automation_faq_items (
    id TEXT PRIMARY KEY,
    clinic_id TEXT NOT NULL REFERENCES clinics(id),
    position INTEGER NOT NULL,
    question TEXT NOT NULL,
    answer TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX automation_faq_items_clinic_idx ON automation_faq_items (clinic_id, position);

-- A menu shown in a conversation and still waiting: a typed number answers it only until
-- expires_at. item_ids: the items in the order shown (JSON array), so "2" means what the
-- patient saw. No foreign key on the conversation: erasure deletes by the column name.
CREATE TABLE automation_faq_pending (
    conversation_id TEXT PRIMARY KEY,
    clinic_id TEXT NOT NULL REFERENCES clinics(id),
    item_ids TEXT NOT NULL,
    expires_at INTEGER NOT NULL
);

-- Per-patient rich menus by a custom field's value (issue 12 item 3: 初診/再診,
-- ワクチン接種予定), tried with the tag rules (`rich_menu_rules`) in one priority order: the
-- numbers are shared, the lowest that matches decides. field_key: the custom field's key (no
-- foreign key: a deleted field's rule matches nobody and is shown so); value compared in
-- `core::text::match_form`.
CREATE TABLE rich_menu_field_rules (
    id TEXT PRIMARY KEY,
    clinic_id TEXT NOT NULL REFERENCES clinics(id),
    channel_id TEXT NOT NULL REFERENCES channels(id),
    field_key TEXT NOT NULL,
    value TEXT NOT NULL,
    rich_menu_id TEXT NOT NULL REFERENCES rich_menus(id),
    priority INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    CONSTRAINT rich_menu_field_rules_key UNIQUE (channel_id, field_key, value)
);
