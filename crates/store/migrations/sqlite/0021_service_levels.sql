-- Service levels (SLA, 返信期限・解決期限) per clinic: targets in minutes of opening time (the
-- clinic calendar's hours), each NULL when off. No row: no targets.
CREATE TABLE service_levels (
    clinic_id TEXT PRIMARY KEY REFERENCES clinics(id),
    first_response_minutes INTEGER,
    resolution_minutes INTEGER,
    warning_minutes INTEGER,
    updated_at INTEGER NOT NULL
);

-- The clocks' starts, kept by the one conversation UPDATE every message makes:
-- waiting_since: the patient's earliest message not yet answered by staff (a staff reply
--   clears it; a patient message sets it unless the conversation is open or snoozed and
--   already waiting);
-- opened_at: when a patient's message last opened it from new or resolved.
ALTER TABLE conversations ADD COLUMN waiting_since INTEGER;
ALTER TABLE conversations ADD COLUMN opened_at INTEGER;

-- Backfill: an open or snoozed conversation waits since the patient's first message after the
-- last staff message; an unresolved one was opened by the patient's first message after it was
-- last resolved (none of either: no clock).
UPDATE conversations SET waiting_since = (
    SELECT MIN(m.created_at) FROM messages m
    WHERE m.conversation_id = conversations.id AND m.direction = 'in' AND m.author_kind = 'patient'
      AND m.created_at > COALESCE((SELECT MAX(s.created_at) FROM messages s
                                   WHERE s.conversation_id = conversations.id
                                     AND s.author_kind = 'staff'), -1)
) WHERE status IN ('open', 'snoozed');
UPDATE conversations SET opened_at = (
    SELECT MIN(m.created_at) FROM messages m
    WHERE m.conversation_id = conversations.id AND m.direction = 'in' AND m.author_kind = 'patient'
      AND m.created_at > COALESCE(conversations.resolved_at, -1)
) WHERE status <> 'resolved';
