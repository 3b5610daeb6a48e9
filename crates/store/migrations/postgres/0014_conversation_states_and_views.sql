-- Issue 11 items 1, 3 (labels) and 5: conversation states, priority, labels, saved views.
--
-- status is open | pending | snoozed | resolved (core::ConversationStatus). A snoozed
-- conversation wakes at snoozed_until: every query counts it as open from then on, and the
-- conversation.wake job flips the row. resolved_at is when it was last resolved.
-- priority (already a column, default 0) is low -1, normal 0, high 1, urgent 2
-- (core::Priority): normal is the default, so existing rows need no update.
ALTER TABLE conversations ADD COLUMN snoozed_until BIGINT;
ALTER TABLE conversations ADD COLUMN resolved_at BIGINT;

-- The views' first pages read an index in order and stop after a page, never sorting all rows:
-- by state (priority then newest, or newest only), by assignee and by team within a state, and
-- every state together by priority (conversations_inbox_idx already serves newest only).
CREATE INDEX conversations_status_priority_idx
    ON conversations(clinic_id, status, priority DESC, last_message_at DESC, id DESC);
CREATE INDEX conversations_status_newest_idx
    ON conversations(clinic_id, status, last_message_at DESC, id DESC);
CREATE INDEX conversations_assignee_idx
    ON conversations(clinic_id, assignee_id, status, priority DESC, last_message_at DESC, id DESC);
CREATE INDEX conversations_team_idx
    ON conversations(clinic_id, team_id, status, priority DESC, last_message_at DESC, id DESC);
CREATE INDEX conversations_priority_idx
    ON conversations(clinic_id, priority DESC, last_message_at DESC, id DESC);
-- Snoozed rows only: the due ones are what "open" adds and what the wake job flips.
CREATE INDEX conversations_snoozed_idx
    ON conversations(clinic_id, snoozed_until) WHERE status = 'snoozed';

-- Labels the clinic defines (予約関連, 請求, 要折り返し). color is a palette name the
-- stylesheet knows (red, orange, yellow, green, blue, purple, gray), never a raw CSS value.
CREATE TABLE labels (
    id TEXT PRIMARY KEY,
    clinic_id TEXT NOT NULL REFERENCES clinics(id),
    name TEXT NOT NULL,
    color TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    CONSTRAINT labels_clinic_name_key UNIQUE (clinic_id, name)
);

CREATE TABLE conversation_labels (
    conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    label_id TEXT NOT NULL REFERENCES labels(id) ON DELETE CASCADE,
    clinic_id TEXT NOT NULL REFERENCES clinics(id),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (conversation_id, label_id)
);
CREATE INDEX conversation_labels_label_idx ON conversation_labels(label_id, conversation_id);

-- A person's saved views: a name and the filter as its query string (the same parameters the
-- inbox page and GET /api/v1/conversations read).
CREATE TABLE saved_views (
    id TEXT PRIMARY KEY,
    clinic_id TEXT NOT NULL REFERENCES clinics(id),
    staff_id TEXT NOT NULL REFERENCES staff(id),
    name TEXT NOT NULL,
    query TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX saved_views_owner_idx ON saved_views(clinic_id, staff_id, created_at);
