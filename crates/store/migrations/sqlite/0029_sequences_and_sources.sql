-- Step (drip) sequences, ステップ配信 (issue 12 item 7), owned by `automation::sequences`; and
-- where patients come from, 流入経路 (item 10), owned by `automation::sources`.
-- A sequence sends its steps, for one consent purpose, to each patient enrolled by its trigger,
-- until the steps run out, the goal tag is reached, or the patient blocks or withdraws consent.

-- trigger_kind: friend_added (trigger_channel_id NULL = any channel) | tag_added (trigger_tag)
-- | field_set (trigger_field_id = trigger_value). goal_tag: reaching it stops the enrollment.
-- reenroll: a patient may be enrolled again after a finished or stopped enrollment.
CREATE TABLE sequences (
    id TEXT PRIMARY KEY,
    clinic_id TEXT NOT NULL REFERENCES clinics(id),
    name TEXT NOT NULL,
    purpose TEXT NOT NULL,
    trigger_kind TEXT NOT NULL,
    trigger_channel_id TEXT,
    trigger_tag TEXT,
    trigger_field_id TEXT,
    trigger_value TEXT,
    goal_tag TEXT,
    reenroll INTEGER NOT NULL DEFAULT 0,
    enabled INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX sequences_clinic_idx ON sequences (clinic_id, trigger_kind);

-- The steps in order (position 0, 1, …). delay_minutes after the enrollment (after_previous 0)
-- or after the previous step was sent (1); send_at_minute: then at the next such clinic-local
-- time (minutes after midnight, e.g. 600 = 10:00); open_hours_only: then no earlier than the
-- clinic's next opening.
CREATE TABLE sequence_steps (
    sequence_id TEXT NOT NULL REFERENCES sequences(id) ON DELETE CASCADE,
    clinic_id TEXT NOT NULL REFERENCES clinics(id),
    position INTEGER NOT NULL,
    delay_minutes INTEGER NOT NULL,
    after_previous INTEGER NOT NULL DEFAULT 0,
    send_at_minute INTEGER,
    open_hours_only INTEGER NOT NULL DEFAULT 0,
    body TEXT NOT NULL,
    PRIMARY KEY (sequence_id, position)
);

-- One patient in one sequence. state active | completed | stopped; stop_reason (when stopped)
-- blocked | unreachable | consent_withdrawn | consent_required | goal | staff |
-- sequence_disabled. next_step: the position the `sequence.step` job for due_at sends.
-- channel_id: the channel that enrolled them (friend-add), else NULL (the patient's channel).
CREATE TABLE sequence_enrollments (
    id TEXT PRIMARY KEY,
    clinic_id TEXT NOT NULL REFERENCES clinics(id),
    sequence_id TEXT NOT NULL REFERENCES sequences(id) ON DELETE CASCADE,
    patient_id TEXT NOT NULL,
    channel_id TEXT,
    state TEXT NOT NULL,
    stop_reason TEXT,
    next_step INTEGER NOT NULL DEFAULT 0,
    due_at INTEGER,
    enrolled_at INTEGER NOT NULL,
    last_sent_at INTEGER,
    updated_at INTEGER NOT NULL
);
-- At most one active enrollment per patient and sequence, whoever enrolls them.
CREATE UNIQUE INDEX sequence_enrollments_active_key ON sequence_enrollments (sequence_id, patient_id) WHERE state = 'active';
CREATE INDEX sequence_enrollments_sequence_idx ON sequence_enrollments (sequence_id, state, enrolled_at);
CREATE INDEX sequence_enrollments_patient_idx ON sequence_enrollments (clinic_id, patient_id);

-- Where patients come from (流入経路, issue 12 item 10). Owned by `automation::sources`.
-- A source belongs to a channel; its code (S-7K2Q) ends the message its QR code prefills, and a
-- patient whose message carries it gets the source's tag.
CREATE TABLE inflow_sources (
    id TEXT PRIMARY KEY,
    clinic_id TEXT NOT NULL REFERENCES clinics(id),
    channel_id TEXT NOT NULL,
    name TEXT NOT NULL,
    code TEXT NOT NULL,
    tag TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    CONSTRAINT inflow_sources_code_key UNIQUE (channel_id, code)
);
CREATE INDEX inflow_sources_clinic_idx ON inflow_sources (clinic_id, created_at);

-- The channel's public address its chat links open (LINE basic id @xxxx, a phone number).
CREATE TABLE inflow_channel_addresses (
    channel_id TEXT PRIMARY KEY,
    clinic_id TEXT NOT NULL REFERENCES clinics(id),
    address TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);

-- One row per message that carried a code: a redelivery (no new message) or a retried job
-- counts once.
CREATE TABLE inflow_scans (
    message_id TEXT PRIMARY KEY,
    clinic_id TEXT NOT NULL REFERENCES clinics(id),
    source_id TEXT NOT NULL REFERENCES inflow_sources(id) ON DELETE CASCADE,
    patient_id TEXT NOT NULL,
    at INTEGER NOT NULL
);
CREATE INDEX inflow_scans_source_idx ON inflow_scans (source_id, at);

-- A patient a source brought; counted = 1 for the first source that ever saw them.
CREATE TABLE inflow_source_patients (
    source_id TEXT NOT NULL REFERENCES inflow_sources(id) ON DELETE CASCADE,
    clinic_id TEXT NOT NULL REFERENCES clinics(id),
    patient_id TEXT NOT NULL,
    counted INTEGER NOT NULL,
    first_at INTEGER NOT NULL,
    PRIMARY KEY (source_id, patient_id)
);
CREATE INDEX inflow_source_patients_patient_idx ON inflow_source_patients (clinic_id, patient_id);
