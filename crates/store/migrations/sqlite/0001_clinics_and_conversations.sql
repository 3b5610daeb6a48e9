-- Times are INTEGER milliseconds since the epoch (UTC) in both dialects, ids are UUIDv7 text:
-- the same Rust code reads both databases through sqlx's Any driver.

CREATE TABLE organizations (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE clinics (
    id TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations(id),
    slug TEXT NOT NULL CONSTRAINT clinics_slug_key UNIQUE,
    name TEXT NOT NULL,
    timezone TEXT NOT NULL,
    locale TEXT NOT NULL,
    -- Owners may relax 2FA only for a demo clinic.
    require_2fa INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL
);

-- A clinic's account on one provider. Credentials are AES-GCM encrypted with the configured key.
CREATE TABLE channels (
    id TEXT PRIMARY KEY,
    clinic_id TEXT NOT NULL REFERENCES clinics(id),
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    credentials_enc TEXT NOT NULL,
    api_base_url TEXT NOT NULL,
    api_data_base_url TEXT,
    settings TEXT NOT NULL DEFAULT '{}',
    enabled INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL
);
CREATE INDEX channels_clinic_idx ON channels(clinic_id);

CREATE TABLE patients (
    id TEXT PRIMARY KEY,
    clinic_id TEXT NOT NULL REFERENCES clinics(id),
    display_name TEXT NOT NULL,
    kana TEXT,
    birth_date TEXT,
    phone TEXT,
    email TEXT,
    language TEXT,
    picture_url TEXT,
    -- Created from a first message and not yet verified against a record.
    provisional INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX patients_clinic_idx ON patients(clinic_id, id);

-- (channel, provider user id) -> patient, with the follow/block state.
CREATE TABLE channel_identities (
    id TEXT PRIMARY KEY,
    clinic_id TEXT NOT NULL REFERENCES clinics(id),
    channel_id TEXT NOT NULL REFERENCES channels(id),
    external_id TEXT NOT NULL,
    patient_id TEXT NOT NULL REFERENCES patients(id),
    display_name TEXT,
    picture_url TEXT,
    status_message TEXT,
    language TEXT,
    follow_state TEXT NOT NULL DEFAULT 'unknown',
    verified INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    CONSTRAINT channel_identities_channel_external_key UNIQUE (channel_id, external_id)
);
CREATE INDEX channel_identities_patient_idx ON channel_identities(patient_id);

-- thread_key is the provider's user id for one-to-one chats and the group/room id for groups.
CREATE TABLE conversations (
    id TEXT PRIMARY KEY,
    clinic_id TEXT NOT NULL REFERENCES clinics(id),
    channel_id TEXT NOT NULL REFERENCES channels(id),
    kind TEXT NOT NULL,
    thread_key TEXT NOT NULL,
    patient_id TEXT REFERENCES patients(id),
    channel_identity_id TEXT REFERENCES channel_identities(id),
    title TEXT,
    status TEXT NOT NULL DEFAULT 'open',
    assignee_id TEXT,
    team_id TEXT,
    priority INTEGER NOT NULL DEFAULT 0,
    unread_count INTEGER NOT NULL DEFAULT 0,
    last_message_at INTEGER NOT NULL,
    last_inbound_at INTEGER,
    last_message_preview TEXT,
    created_at INTEGER NOT NULL,
    CONSTRAINT conversations_channel_thread_key UNIQUE (channel_id, thread_key)
);
CREATE INDEX conversations_inbox_idx ON conversations(clinic_id, last_message_at DESC, id DESC);

CREATE TABLE messages (
    id TEXT PRIMARY KEY,
    clinic_id TEXT NOT NULL REFERENCES clinics(id),
    conversation_id TEXT NOT NULL REFERENCES conversations(id),
    channel_id TEXT NOT NULL REFERENCES channels(id),
    direction TEXT NOT NULL,          -- in | out
    kind TEXT NOT NULL,               -- text, image, video, audio, file, location, sticker, postback, event, unsupported
    body TEXT,
    payload TEXT NOT NULL DEFAULT '{}',
    sender_identity_id TEXT REFERENCES channel_identities(id),
    author_kind TEXT NOT NULL,        -- patient | staff | automation | system
    author_staff_id TEXT,
    provider_message_id TEXT,
    -- received | queued | sending | sent | delivered | read | failed | in_doubt
    status TEXT NOT NULL,
    failure_code TEXT,
    failure_reason TEXT,
    -- The patient unsent it: the body is gone, a tombstone stays.
    unsent_at INTEGER,
    created_at INTEGER NOT NULL,
    sent_at INTEGER
);
CREATE INDEX messages_conversation_idx ON messages(conversation_id, created_at, id);
CREATE INDEX messages_provider_idx ON messages(channel_id, provider_message_id);

CREATE TABLE attachments (
    id TEXT PRIMARY KEY,
    clinic_id TEXT NOT NULL REFERENCES clinics(id),
    message_id TEXT NOT NULL REFERENCES messages(id),
    content_type TEXT NOT NULL,
    size_bytes INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    data BLOB NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX attachments_message_idx ON attachments(message_id);

-- The raw provider event, kept before anything else happens. The unique key is the dedupe:
-- a redelivery conflicts, stores nothing and still gets 200.
CREATE TABLE webhook_events (
    id TEXT PRIMARY KEY,
    clinic_id TEXT NOT NULL REFERENCES clinics(id),
    channel_id TEXT NOT NULL REFERENCES channels(id),
    provider_event_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    mode TEXT,
    body TEXT,
    state TEXT NOT NULL DEFAULT 'processed',
    received_at INTEGER NOT NULL,
    CONSTRAINT webhook_events_channel_provider_id_key UNIQUE (channel_id, provider_event_id)
);

-- The durable queue: enqueued in the transaction that decided the work.
CREATE TABLE outbox_jobs (
    id TEXT PRIMARY KEY,
    clinic_id TEXT,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    idempotency_key TEXT NOT NULL CONSTRAINT outbox_jobs_idempotency_key UNIQUE,
    -- queued | running | done | dead | in_doubt
    state TEXT NOT NULL,
    run_at INTEGER NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    lease_until INTEGER,
    last_error TEXT,
    first_attempt_at INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX outbox_jobs_due_idx ON outbox_jobs(state, run_at);
