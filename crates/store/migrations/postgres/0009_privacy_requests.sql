-- Data subject requests and retention (issue 3, part 5).

-- One row per clinic once an admin has saved it; until then the defaults below apply.
-- raw_webhook_body_days: a raw provider event is only needed to reprocess or debug a delivery,
-- and everything it says is already in the message rows; a month covers any investigation.
-- conversation_years: 5, the period 医師法 第24条 sets for medical charts. Messages are not charts,
-- but staff transcribe from them into the chart and a question about what the clinic told a
-- patient is asked as long as the chart exists; keeping them longer holds data with no duty to.
CREATE TABLE retention_settings (
    clinic_id TEXT PRIMARY KEY REFERENCES clinics(id),
    raw_webhook_body_days BIGINT NOT NULL DEFAULT 30 CHECK (raw_webhook_body_days >= 1),
    conversation_years BIGINT NOT NULL DEFAULT 5 CHECK (conversation_years >= 1),
    updated_by TEXT NOT NULL,       -- staff:<id> | token:<id>
    updated_at BIGINT NOT NULL
);

-- hex SHA-256 of '<channel id>:<provider user id>': finds a patient's raw events for erasure
-- without keeping the provider id in clear beside the body.
ALTER TABLE webhook_events ADD COLUMN sender_ref TEXT;
CREATE INDEX webhook_events_sender_idx ON webhook_events(channel_id, sender_ref);
-- Retention walks events by age.
CREATE INDEX webhook_events_received_idx ON webhook_events(received_at);

-- The erasure ledger: what was erased, by whom, when, and how many rows of each kind. Ids and
-- counts only: the patient is gone and this row must not bring them back. reason is the staff's
-- justification with the patient's name blanked out.
CREATE TABLE erasures (
    id TEXT PRIMARY KEY,
    clinic_id TEXT NOT NULL REFERENCES clinics(id),
    patient_id TEXT NOT NULL,       -- no foreign key: the patient row is deleted
    requested_by TEXT NOT NULL,     -- staff:<id> | token:<id>
    reason TEXT NOT NULL,
    counts TEXT NOT NULL,           -- JSON object: table -> rows deleted or blanked
    at BIGINT NOT NULL
);
CREATE INDEX erasures_clinic_idx ON erasures(clinic_id, at);
