-- The consent ledger (DESIGN §3): append-only, one row per grant or withdrawal, never updated,
-- so the history is the table itself. The current state of (patient, purpose, channel) is its
-- latest row; a row for one channel beats a row for every channel (channel_id NULL), whatever
-- their order, because the narrower statement is the patient's more specific wish.
CREATE TABLE consent_events (
    -- Insertion order: breaks ties between rows of the same millisecond.
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id TEXT NOT NULL CONSTRAINT consent_events_id_key UNIQUE,
    clinic_id TEXT NOT NULL REFERENCES clinics(id),
    patient_id TEXT NOT NULL REFERENCES patients(id),
    -- care | reminders | health_information | marketing | photo_publication
    purpose TEXT NOT NULL,
    -- NULL: every channel of the clinic.
    channel_id TEXT REFERENCES channels(id),
    granted BIGINT NOT NULL,
    -- chat | web_form | staff | import | api
    source TEXT NOT NULL,
    -- The exact words the patient saw (the chat text, the form's sentence): what they agreed to.
    wording TEXT NOT NULL,
    -- Why staff recorded it (required for staff entries).
    reason TEXT,
    actor_kind TEXT NOT NULL,       -- patient | staff | token | system
    actor_id TEXT,
    at BIGINT NOT NULL
);
-- The latest row per (patient, purpose, channel): read on every send.
CREATE INDEX consent_events_current_idx ON consent_events(clinic_id, patient_id, purpose, channel_id, at);

-- A question asked in chat whose numbered answer is still awaited (配信設定). The choices hold
-- the exact wording shown, so the answer is recorded with the words the patient saw.
CREATE TABLE consent_prompts (
    id TEXT PRIMARY KEY,
    clinic_id TEXT NOT NULL REFERENCES clinics(id),
    patient_id TEXT NOT NULL REFERENCES patients(id),
    channel_id TEXT NOT NULL REFERENCES channels(id),
    conversation_id TEXT NOT NULL REFERENCES conversations(id),
    choices TEXT NOT NULL,          -- JSON: [{"key": "1", "purposes": [...], "granted": true, "wording": "…"}]
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    -- Set when answered or abandoned: a prompt is answered at most once.
    closed_at BIGINT
);
CREATE INDEX consent_prompts_open_idx ON consent_prompts(conversation_id, closed_at, expires_at);

-- The grounds the consent check allowed an outbound message on: `reply_to_patient` or
-- `purpose:<code>`. NULL for inbound messages and for those queued before the ledger existed.
ALTER TABLE messages ADD COLUMN send_basis TEXT;
