-- Identity verification (DESIGN §3): a channel identity is linked to a patient record only after
-- proof in chat (card number + birth date, or a one-time code) or by staff with a reason.

-- One row per channel identity: the chat dialogue's state and its lock-out. Failed attempts
-- survive a restart of the dialogue, so starting over never resets the count; only success,
-- the lock's expiry or a staff unlock does.
CREATE TABLE verification_sessions (
    id TEXT PRIMARY KEY,
    clinic_id TEXT NOT NULL REFERENCES clinics(id),
    identity_id TEXT NOT NULL REFERENCES channel_identities(id),
    -- idle | awaiting_card | awaiting_birth_date | awaiting_code
    step TEXT NOT NULL DEFAULT 'idle'
        CHECK (step IN ('idle', 'awaiting_card', 'awaiting_birth_date', 'awaiting_code')),
    -- The card number as entered, normalized (ASCII, upper case, no separators).
    card_number TEXT,
    failed_attempts INTEGER NOT NULL DEFAULT 0,
    locked_until INTEGER,
    -- A waiting step stops consuming the patient's messages after this.
    expires_at INTEGER,
    -- One-time code: SHA-256 of (session id, code), never the code itself.
    code_hash TEXT,
    code_expires_at INTEGER,
    code_attempts INTEGER NOT NULL DEFAULT 0,
    -- The patient record the code was sent for.
    code_patient_id TEXT REFERENCES patients(id),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    CONSTRAINT verification_sessions_identity_key UNIQUE (identity_id)
);

-- Every link of an identity to a record, so it can be undone exactly. `moved` is JSON with the
-- ids moved from the provisional patient (conversations, identities, consent rows, prompts,
-- tags added to the record) and the provisional patient's row, tags and field values as they
-- were before it was removed: what undo puts back.
CREATE TABLE identity_links (
    id TEXT PRIMARY KEY,
    clinic_id TEXT NOT NULL REFERENCES clinics(id),
    identity_id TEXT NOT NULL REFERENCES channel_identities(id),
    -- No REFERENCES: the provisional patient is removed by the link and restored by undo.
    from_patient_id TEXT NOT NULL,
    to_patient_id TEXT NOT NULL REFERENCES patients(id),
    -- chat | code | staff
    how TEXT NOT NULL CHECK (how IN ('chat', 'code', 'staff')),
    reason TEXT,
    actor_kind TEXT NOT NULL,       -- patient | staff | token
    actor_id TEXT,
    moved TEXT NOT NULL DEFAULT '{}',
    at INTEGER NOT NULL,
    undone_at INTEGER,
    undone_by TEXT
);
CREATE INDEX identity_links_identity_idx ON identity_links(identity_id, at);
CREATE INDEX identity_links_to_idx ON identity_links(to_patient_id, at);

-- Someone acting for a patient (a parent for a child, family for an elderly patient): linked
-- with the relationship, never merged. The proxy is a channel identity or a patient record.
CREATE TABLE patient_proxies (
    id TEXT PRIMARY KEY,
    clinic_id TEXT NOT NULL REFERENCES clinics(id),
    patient_id TEXT NOT NULL REFERENCES patients(id),
    proxy_identity_id TEXT REFERENCES channel_identities(id),
    proxy_patient_id TEXT REFERENCES patients(id),
    relationship TEXT NOT NULL
        CHECK (relationship IN ('parent', 'child', 'spouse', 'family', 'caregiver', 'other')),
    created_by TEXT,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER,
    revoked_by TEXT,
    CHECK ((proxy_identity_id IS NULL) <> (proxy_patient_id IS NULL))
);
CREATE INDEX patient_proxies_patient_idx ON patient_proxies(patient_id, revoked_at);
