-- Messages staff write now to go out later (a clinic-local time). Checked again (consent,
-- reachability, the service window) when they leave; a refusal then stays here with its code,
-- shown on the conversation.
CREATE TABLE scheduled_messages (
    id TEXT PRIMARY KEY,
    clinic_id TEXT NOT NULL REFERENCES clinics(id),
    conversation_id TEXT NOT NULL REFERENCES conversations(id),
    author_staff_id TEXT,
    body TEXT NOT NULL,
    -- NULL: a reply in the conversation; else the consent purpose it is sent for.
    purpose TEXT,
    send_at INTEGER NOT NULL,
    -- scheduled | sending | sent | refused | cancelled
    state TEXT NOT NULL DEFAULT 'scheduled',
    refusal_code TEXT,
    message_id TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX scheduled_messages_conversation_idx ON scheduled_messages(conversation_id, send_at);
