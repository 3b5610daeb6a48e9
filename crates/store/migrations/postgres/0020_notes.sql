-- Private notes staff leave on a conversation (never sent to the patient), and who each
-- mentions: the mentioned see it among their mentions until they open the conversation.
CREATE TABLE conversation_notes (
    id TEXT PRIMARY KEY,
    clinic_id TEXT NOT NULL REFERENCES clinics(id),
    conversation_id TEXT NOT NULL REFERENCES conversations(id),
    author_staff_id TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX conversation_notes_conversation_idx ON conversation_notes(conversation_id, created_at);

CREATE TABLE note_mentions (
    note_id TEXT NOT NULL REFERENCES conversation_notes(id),
    clinic_id TEXT NOT NULL REFERENCES clinics(id),
    staff_id TEXT NOT NULL,
    conversation_id TEXT NOT NULL REFERENCES conversations(id),
    created_at BIGINT NOT NULL,
    seen_at BIGINT,
    PRIMARY KEY (note_id, staff_id)
);
CREATE INDEX note_mentions_staff_idx ON note_mentions(clinic_id, staff_id, seen_at, created_at);
