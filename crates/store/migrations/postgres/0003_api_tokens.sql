-- Per-clinic API tokens; only the SHA-256 of the token is stored.
CREATE TABLE api_tokens (
    id TEXT PRIMARY KEY,
    clinic_id TEXT NOT NULL REFERENCES clinics(id),
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL CONSTRAINT api_tokens_hash_key UNIQUE,
    scopes TEXT NOT NULL,            -- comma-separated: admin, read, reply, broadcast
    created_at BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at BIGINT
);
CREATE INDEX api_tokens_clinic_idx ON api_tokens(clinic_id);

-- `Idempotency-Key` on API writes: a repeat within 24 hours returns the first response.
-- The primary key is the lock: a request first inserts a placeholder row (response_status 0,
-- empty body) and only the request whose insert succeeded does the work; a concurrent repeat
-- finds the placeholder and waits for (or is told about) the first response instead of acting
-- twice. A failed attempt deletes its placeholder so the client may retry with the same key.
-- actor_id is the API token id.
CREATE TABLE idempotency_keys (
    clinic_id TEXT NOT NULL,
    actor_id TEXT NOT NULL,
    key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    response_status BIGINT NOT NULL,
    response_body TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (clinic_id, actor_id, key)
);
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys(created_at);
