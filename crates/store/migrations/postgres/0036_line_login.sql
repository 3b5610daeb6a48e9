-- LINE Login's add-friend option for inflow sources (流入経路, issue 12 item 10). A LINE channel
-- may link a LINE Login channel of the same provider (so its user ids are the Messaging API's):
-- then a source's QR code opens our /s/{source} which sends the patient through LINE Login
-- with bot_prompt=aggressive, and the callback attributes the source to the LINE user id the
-- ID token names.

-- One per LINE channel (id = the Messaging API channel's id). The Login channel secret is
-- encrypted with the configured key (listed in store::secrets::ENCRYPTED for rotate-key).
CREATE TABLE line_login_links (
    id TEXT PRIMARY KEY,
    clinic_id TEXT NOT NULL REFERENCES clinics(id),
    login_channel_id TEXT NOT NULL,
    secret_enc TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- A login completed from a source's link. The OAuth `state` itself is signed, not stored (opening
-- a source's public link writes nothing); the callback records it here, keyed by its SHA-256,
-- before it changes anything, so a reloaded or replayed callback finds it and changes nothing.
-- Kept until a day after the state expired (after that its signature check refuses it anyway).
CREATE TABLE line_login_states (
    id TEXT PRIMARY KEY,
    clinic_id TEXT NOT NULL REFERENCES clinics(id),
    channel_id TEXT NOT NULL,
    source_id TEXT NOT NULL REFERENCES inflow_sources(id) ON DELETE CASCADE,
    used_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    -- What LINE said on the callback: the patient became a friend during this login.
    friend_added BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX line_login_states_expiry_idx ON line_login_states (expires_at);

-- A source's welcome owed to whoever arrived through LINE Login, sent once the patient is a
-- friend (the follow webhook may come before or after the callback): whichever of the two
-- claims it (sent_at, a conditional UPDATE) sends it, so it never goes twice.
CREATE TABLE line_login_welcomes (
    state_id TEXT PRIMARY KEY,
    clinic_id TEXT NOT NULL REFERENCES clinics(id),
    identity_id TEXT NOT NULL,
    source_id TEXT NOT NULL REFERENCES inflow_sources(id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    sent_at BIGINT
);
CREATE INDEX line_login_welcomes_pending_idx ON line_login_welcomes (identity_id) WHERE sent_at IS NULL;
