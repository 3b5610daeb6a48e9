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
    in_greeting BIGINT NOT NULL DEFAULT 0,
    updated_at BIGINT NOT NULL
);

CREATE TABLE automation_faq_items (
    id TEXT PRIMARY KEY,
    clinic_id TEXT NOT NULL REFERENCES clinics(id),
    position BIGINT NOT NULL,
    question TEXT NOT NULL,
    answer TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX automation_faq_items_clinic_idx ON automation_faq_items (clinic_id, position);

-- A menu shown in a conversation and still waiting: a typed number answers it only until
-- expires_at. item_ids: the items in the order shown (JSON array), so "2" means what the
-- patient saw. No foreign key on the conversation: erasure deletes by the column name.
CREATE TABLE automation_faq_pending (
    conversation_id TEXT PRIMARY KEY,
    clinic_id TEXT NOT NULL REFERENCES clinics(id),
    item_ids TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
