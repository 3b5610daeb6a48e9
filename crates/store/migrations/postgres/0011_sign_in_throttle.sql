-- Sign-in throttling by counters that are reserved before the expensive check, so parallel
-- guesses cannot all pass the count (issue 8). One row per key: an account-and-address pair,
-- an address, an account seen from unknown devices, a known device, or a second-factor step.
CREATE TABLE sign_in_throttle (
    key TEXT PRIMARY KEY,
    failures BIGINT NOT NULL,        -- attempts counted in this window (reserved ones included)
    window_start BIGINT NOT NULL,
    blocked_until BIGINT NOT NULL,    -- 0 when not locked out
    lockouts BIGINT NOT NULL         -- consecutive lock-outs; each doubles the next wait
);

-- Browsers that have completed a sign-in for an account: a locked-out person still gets in
-- from one of them. The cookie holds the token; only its hash is stored.
CREATE TABLE known_devices (
    token_hash TEXT PRIMARY KEY,
    staff_id TEXT NOT NULL REFERENCES staff(id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT NOT NULL
);
CREATE INDEX known_devices_staff_idx ON known_devices(staff_id);

DROP TABLE login_attempts;
