-- Safety (issue 13): red-flag triage of every inbound patient text, the emergency guidance,
-- the on-call rota and its alerts. Owned by the `safety` crate. Conversation and message ids
-- carry no foreign key; their column names (conversation_id, message_id) are what erasure
-- deletes by.

-- One row per clinic; no row reads as the defaults (the built-in guidance and crisis texts,
-- escalation after 10 minutes, every built-in rule on).
CREATE TABLE safety_settings (
    clinic_id TEXT PRIMARY KEY REFERENCES clinics(id),
    guidance_text TEXT NOT NULL,
    crisis_text TEXT NOT NULL,
    escalate_minutes INTEGER NOT NULL DEFAULT 10,
    -- JSON array of the built-in rule ids the clinic switched off.
    disabled_rules TEXT NOT NULL DEFAULT '[]',
    updated_at INTEGER NOT NULL
);

-- The clinic's own red-flag phrases, each with its category (triage::Category, snake_case).
CREATE TABLE triage_phrases (
    id TEXT PRIMARY KEY,
    clinic_id TEXT NOT NULL REFERENCES clinics(id),
    phrase TEXT NOT NULL,
    category TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    CONSTRAINT triage_phrases_clinic_phrase_key UNIQUE (clinic_id, phrase)
);

-- What triage found in one inbound message: a row for every assessed text (the sentiment is
-- shown on each), urgent/crisis flags and the hits (JSON: rule_id, category, phrase, start,
-- end in chars) explain the red marker.
CREATE TABLE message_triage (
    message_id TEXT PRIMARY KEY,
    clinic_id TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    urgent INTEGER NOT NULL,
    crisis INTEGER NOT NULL,
    hits TEXT NOT NULL DEFAULT '[]',
    -- positive | neutral | negative, with the cues that decided it (JSON array).
    sentiment TEXT NOT NULL,
    sentiment_cues TEXT NOT NULL DEFAULT '[]',
    created_at INTEGER NOT NULL
);
CREATE INDEX message_triage_conversation_idx ON message_triage (clinic_id, conversation_id);

-- The guidance goes at most once per conversation per hour: one conditional upsert claims it
-- (two concurrent messages: one wins), in the transaction that queues the send.
CREATE TABLE triage_guidance (
    conversation_id TEXT PRIMARY KEY,
    clinic_id TEXT NOT NULL,
    message_id TEXT NOT NULL,
    sent_at INTEGER NOT NULL
);

-- On-call rota: who (a member who may reply) and when (instants; the page shows them in the
-- clinic's time). Entries covering a moment are tried in (position, starts_at) order.
CREATE TABLE on_call_rota (
    id TEXT PRIMARY KEY,
    clinic_id TEXT NOT NULL REFERENCES clinics(id),
    staff_id TEXT NOT NULL,
    starts_at INTEGER NOT NULL,
    ends_at INTEGER NOT NULL,
    position INTEGER NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX on_call_rota_clinic_idx ON on_call_rota (clinic_id, starts_at);

-- An urgent hit's alert: opened_at is set when a staff member opens the conversation page
-- after it (the signal escalation waits for). on_call: the rota's staff ids at the alert,
-- in order (JSON), so escalation walks the rota as it was.
CREATE TABLE triage_alerts (
    id TEXT PRIMARY KEY,
    clinic_id TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    message_id TEXT NOT NULL CONSTRAINT triage_alerts_message_key UNIQUE,
    on_call TEXT NOT NULL DEFAULT '[]',
    created_at INTEGER NOT NULL,
    opened_at INTEGER,
    opened_by TEXT
);
CREATE INDEX triage_alerts_conversation_idx ON triage_alerts (clinic_id, conversation_id);

-- Who was told of an alert, at which escalation step (the header's on-call badge lists the
-- unopened alerts of the staff member asking).
CREATE TABLE triage_notified (
    alert_id TEXT NOT NULL,
    step INTEGER NOT NULL,
    staff_id TEXT NOT NULL,
    clinic_id TEXT NOT NULL,
    conversation_id TEXT NOT NULL,
    at INTEGER NOT NULL,
    PRIMARY KEY (alert_id, step, staff_id)
);
CREATE INDEX triage_notified_staff_idx ON triage_notified (clinic_id, staff_id);

-- 不満の強い順 (the inbox's sort by sentiment): the latest assessed patient text's sentiment on
-- its conversation, 1 negative, 0 neutral, -1 positive, so the sort walks an index descending
-- like the others. Written by safety::raise with the assessment.
ALTER TABLE conversations ADD COLUMN dissatisfaction INTEGER NOT NULL DEFAULT 0;
CREATE INDEX conversations_dissatisfaction_idx
    ON conversations(clinic_id, status, dissatisfaction, last_message_at, id);
