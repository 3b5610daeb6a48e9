CREATE TABLE staff (
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL CONSTRAINT staff_email_key UNIQUE,   -- stored lowercased
    display_name TEXT NOT NULL,
    password_hash TEXT NOT NULL,                             -- argon2id PHC string
    totp_secret_enc TEXT,                                    -- AES-GCM with the configured key
    totp_enabled BIGINT NOT NULL DEFAULT 0,
    -- The last 30-second TOTP step accepted: a code is never accepted twice.
    totp_last_step BIGINT NOT NULL DEFAULT 0,
    recovery_codes TEXT NOT NULL DEFAULT '[]',               -- JSON array of SHA-256 hashes
    locale TEXT,
    disabled BIGINT NOT NULL DEFAULT 0,
    -- Sessions created before this moment are void ("sign out everywhere").
    sessions_valid_after BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);

CREATE TABLE memberships (
    staff_id TEXT NOT NULL REFERENCES staff(id),
    clinic_id TEXT NOT NULL REFERENCES clinics(id),
    role TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (staff_id, clinic_id)
);
CREATE INDEX memberships_clinic_idx ON memberships(clinic_id);

CREATE TABLE teams (
    id TEXT PRIMARY KEY,
    clinic_id TEXT NOT NULL REFERENCES clinics(id),
    name TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    CONSTRAINT teams_clinic_name_key UNIQUE (clinic_id, name)
);

CREATE TABLE team_members (
    team_id TEXT NOT NULL REFERENCES teams(id),
    staff_id TEXT NOT NULL REFERENCES staff(id),
    PRIMARY KEY (team_id, staff_id)
);

-- The cookie holds a random token; only its SHA-256 is stored.
CREATE TABLE sessions (
    id_hash TEXT PRIMARY KEY,
    staff_id TEXT NOT NULL REFERENCES staff(id),
    clinic_id TEXT,
    csrf_token TEXT NOT NULL,
    -- password checked, second factor still to come
    mfa_passed BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    last_active_at BIGINT NOT NULL,
    source_ip TEXT
);
CREATE INDEX sessions_staff_idx ON sessions(staff_id);

CREATE TABLE login_attempts (
    id TEXT PRIMARY KEY,
    email_hash TEXT NOT NULL,
    source_ip TEXT,
    success BIGINT NOT NULL,
    at BIGINT NOT NULL
);
CREATE INDEX login_attempts_email_idx ON login_attempts(email_hash, at);
CREATE INDEX login_attempts_ip_idx ON login_attempts(source_ip, at);

-- Append-only. Each row carries the hash of the previous row; `tsunagu audit verify` recomputes
-- the chain. Rows hold ids, never patient data, so erasure leaves the chain whole.
CREATE TABLE audit_events (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id TEXT NOT NULL CONSTRAINT audit_events_id_key UNIQUE,
    clinic_id TEXT,
    actor_kind TEXT NOT NULL,       -- staff | token | system | anonymous
    actor_id TEXT,
    action TEXT NOT NULL,
    subject_type TEXT,
    subject_ids TEXT NOT NULL DEFAULT '[]',
    source_ip TEXT,
    at BIGINT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX audit_events_clinic_idx ON audit_events(clinic_id, seq);
