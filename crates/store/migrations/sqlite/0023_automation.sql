-- Automation (issue 12, slice 1): keyword auto-replies, the away message, the greeting on
-- friend-add / first contact, and the human escape words. Owned by the `automation` crate.
-- Conversation, identity and message ids below carry no foreign key; their column names
-- (conversation_id, identity_id, message_id) are what erasure deletes by.

-- One row per clinic; no row reads as the defaults (away message off, the standard escape
-- words, quiet for 30 minutes after a staff reply).
CREATE TABLE automation_settings (
    clinic_id TEXT PRIMARY KEY REFERENCES clinics(id),
    away_enabled INTEGER NOT NULL DEFAULT 0,
    away_text TEXT NOT NULL DEFAULT '',
    -- The away message goes at most once per conversation in this many hours.
    away_every_hours INTEGER NOT NULL DEFAULT 12,
    -- JSON array of the words that hand a conversation to a person (スタッフ, 人と話したい…).
    escape_words TEXT NOT NULL DEFAULT '[]',
    -- While a person handles a conversation (assigned, and a staff reply within this many
    -- minutes) automations stay quiet.
    quiet_minutes INTEGER NOT NULL DEFAULT 30,
    updated_at INTEGER NOT NULL
);

-- Keyword auto-replies. keywords: JSON array of spellings; match_mode exact | contains |
-- pattern (a regular expression, size-limited); channel_id NULL = every channel;
-- active_hours always | open | closed (from the clinic calendar); team_id: hand the
-- conversation to this team after answering (NULL: no hand-off).
CREATE TABLE automation_keyword_rules (
    id TEXT PRIMARY KEY,
    clinic_id TEXT NOT NULL REFERENCES clinics(id),
    name TEXT NOT NULL,
    keywords TEXT NOT NULL,
    match_mode TEXT NOT NULL,
    reply_text TEXT NOT NULL,
    channel_id TEXT,
    active_hours TEXT NOT NULL DEFAULT 'always',
    team_id TEXT,
    enabled INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX automation_keyword_rules_clinic_idx ON automation_keyword_rules (clinic_id, created_at);

-- The greeting per channel, sent once per identity on friend-add (LINE follow) or first contact.
CREATE TABLE automation_greetings (
    channel_id TEXT PRIMARY KEY,
    clinic_id TEXT NOT NULL REFERENCES clinics(id),
    enabled INTEGER NOT NULL DEFAULT 1,
    greeting_text TEXT NOT NULL,
    ask_consent INTEGER NOT NULL DEFAULT 1,
    offer_verification INTEGER NOT NULL DEFAULT 1,
    updated_at INTEGER NOT NULL
);

-- Identities already greeted: the greeting goes once per identity (a second follow after a
-- block gets none).
CREATE TABLE automation_greeted (
    identity_id TEXT PRIMARY KEY,
    clinic_id TEXT NOT NULL,
    greeted_at INTEGER NOT NULL
);

-- Per conversation: handed to a person by an escape word (automations quiet until staff
-- resolve it), and when the away message last went.
CREATE TABLE automation_conversations (
    conversation_id TEXT PRIMARY KEY,
    clinic_id TEXT NOT NULL,
    handed_over_at INTEGER,
    away_sent_at INTEGER
);

-- Each inbound message answered by automation, claimed before answering: a job run twice
-- (a retry after a crash) never answers twice.
CREATE TABLE automation_answered (
    message_id TEXT PRIMARY KEY,
    clinic_id TEXT NOT NULL,
    step TEXT NOT NULL,
    at INTEGER NOT NULL
);
