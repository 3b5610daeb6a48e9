-- Satisfaction surveys, 満足度アンケート (issue 12 item 8), owned by `automation::satisfaction`.
-- After a conversation is resolved (and still resolved after the delay), the patient is asked
-- for a score 1–5 for purpose `care`, then optionally for a comment.

-- One row per clinic. channel_kinds: the kinds asked, comma-separated (line,whatsapp,…).
-- comment_prompt empty: no comment is asked. min_days: a patient is asked at most once in it.
CREATE TABLE satisfaction_settings (
    clinic_id TEXT PRIMARY KEY REFERENCES clinics(id),
    enabled INTEGER NOT NULL DEFAULT 0,
    delay_minutes INTEGER NOT NULL DEFAULT 30,
    question TEXT NOT NULL,
    thanks TEXT NOT NULL,
    comment_prompt TEXT NOT NULL DEFAULT '',
    min_days INTEGER NOT NULL DEFAULT 30,
    channel_kinds TEXT NOT NULL DEFAULT 'line,whatsapp,messenger,sms',
    updated_at INTEGER NOT NULL
);

-- One survey per resolve of a conversation (the key claims it: a retried job asks once).
-- state: asked (waiting for the score) | answered (score kept; a comment may follow until
-- comment_until) | done | expired (no score: the patient wrote something else) | skipped (not
-- sent: skip_reason is the refusal's code, e.g. consent_required, outside_reply_window).
-- staff_id / team_id: who had the conversation when it was resolved; month: the resolve's
-- clinic-local month (YYYY-MM), what the results are grouped by.
CREATE TABLE satisfaction_surveys (
    id TEXT PRIMARY KEY,
    clinic_id TEXT NOT NULL REFERENCES clinics(id),
    conversation_id TEXT NOT NULL,
    patient_id TEXT,
    channel_kind TEXT NOT NULL,
    staff_id TEXT,
    team_id TEXT,
    resolved_at INTEGER NOT NULL,
    month TEXT NOT NULL,
    state TEXT NOT NULL,
    skip_reason TEXT,
    asked_at INTEGER,
    score INTEGER,
    answered_at INTEGER,
    comment TEXT,
    comment_until INTEGER,
    created_at INTEGER NOT NULL,
    CONSTRAINT satisfaction_surveys_resolve_key UNIQUE (conversation_id, resolved_at)
);
CREATE INDEX satisfaction_surveys_month_idx ON satisfaction_surveys (clinic_id, month);
CREATE INDEX satisfaction_surveys_patient_idx ON satisfaction_surveys (clinic_id, patient_id, asked_at);
CREATE INDEX satisfaction_surveys_open_idx ON satisfaction_surveys (conversation_id, state);
