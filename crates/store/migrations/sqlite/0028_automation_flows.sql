-- Automation flows (issue 12 item 4): dialogues built by staff — questions, branches, fields,
-- tags, priority, a team, webhooks, a hand-over. Owned by the `automation` crate (`flows`).
-- A flow keeps one draft and publishes numbered versions; a run finishes on the version it
-- started. Conversation and patient ids in runs carry no foreign key: erasure deletes by
-- those column names.
CREATE TABLE automation_flows (
    id TEXT PRIMARY KEY,
    clinic_id TEXT NOT NULL REFERENCES clinics(id),
    name TEXT NOT NULL,
    enabled INTEGER NOT NULL DEFAULT 0,
    -- The definition being edited (JSON, automation::flows::Definition).
    draft TEXT NOT NULL,
    -- The version new runs start on (NULL: never published).
    published_version INTEGER,
    -- The key webhooks are signed with (encrypted like channel credentials; NULL until a
    -- version with a webhook is published).
    webhook_secret TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX automation_flows_clinic_idx ON automation_flows (clinic_id, created_at);

CREATE TABLE automation_flow_versions (
    flow_id TEXT NOT NULL REFERENCES automation_flows(id),
    clinic_id TEXT NOT NULL REFERENCES clinics(id),
    version INTEGER NOT NULL,
    definition TEXT NOT NULL,
    published_at INTEGER NOT NULL,
    published_by TEXT,
    PRIMARY KEY (flow_id, version)
);

-- One patient's way through a flow. state running | completed | handed_over | timed_out |
-- cancelled; step: the question waiting for an answer; seq counts advances, so one
-- conditional UPDATE claims each answer (a redelivery or a second worker never advances it
-- twice); caller: the code that started it (NULL: a keyword rule or staff).
CREATE TABLE automation_flow_runs (
    id TEXT PRIMARY KEY,
    clinic_id TEXT NOT NULL REFERENCES clinics(id),
    conversation_id TEXT NOT NULL,
    patient_id TEXT,
    flow_id TEXT NOT NULL REFERENCES automation_flows(id),
    version INTEGER NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('running', 'completed', 'handed_over', 'timed_out', 'cancelled')),
    step TEXT,
    answers TEXT NOT NULL DEFAULT '{}',
    tries INTEGER NOT NULL DEFAULT 0,
    seq INTEGER NOT NULL DEFAULT 0,
    last_message_id TEXT,
    caller TEXT,
    started_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
-- At most one running flow per conversation.
CREATE UNIQUE INDEX automation_flow_runs_running_idx ON automation_flow_runs (conversation_id) WHERE state = 'running';
CREATE INDEX automation_flow_runs_flow_idx ON automation_flow_runs (clinic_id, flow_id, started_at);

-- A keyword rule may start a flow after its reply (or instead of one: an empty reply).
ALTER TABLE automation_keyword_rules ADD COLUMN flow_id TEXT;
