-- Event rules, 自動ルール (issue 12 item 5), owned by `automation::event_rules`: when something
-- happens (trigger), if every condition holds, then the actions run; rules are tried in
-- `position` order and one may stop the later ones.
-- trigger_kind: message_received | conversation_opened | conversation_resolved | patient_tagged
-- | friend_added | friend_blocked | consent_changed; trigger: its JSON (e.g. the tag);
-- conditions, actions: JSON arrays (`event_rules::{Condition, Action}`).
-- webhook_secret: the signing key of the rule's webhook action (encrypted, like a flow's).
CREATE TABLE event_rules (
    id TEXT PRIMARY KEY,
    clinic_id TEXT NOT NULL REFERENCES clinics(id),
    name TEXT NOT NULL,
    position BIGINT NOT NULL,
    enabled BIGINT NOT NULL DEFAULT 1,
    stop_later BIGINT NOT NULL DEFAULT 0,
    trigger_kind TEXT NOT NULL,
    trigger TEXT NOT NULL,
    conditions TEXT NOT NULL,
    actions TEXT NOT NULL,
    webhook_secret TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX event_rules_clinic_idx ON event_rules (clinic_id, trigger_kind, position);

-- One row per rule and event it fired for: the primary key is the claim, so a retried job or
-- a second worker fires a rule once per event (the event key is minted where it happened).
CREATE TABLE event_rule_firings (
    rule_id TEXT NOT NULL REFERENCES event_rules(id) ON DELETE CASCADE,
    clinic_id TEXT NOT NULL REFERENCES clinics(id),
    event_key TEXT NOT NULL,
    conversation_id TEXT,
    fired_at BIGINT NOT NULL,
    PRIMARY KEY (rule_id, event_key)
);
CREATE INDEX event_rule_firings_clinic_idx ON event_rule_firings (clinic_id, fired_at);
