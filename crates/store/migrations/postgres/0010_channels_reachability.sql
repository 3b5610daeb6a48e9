-- Channels I (issue 4): WhatsApp, Messenger and SMS beside LINE.

-- Reachability per channel identity. opted_out_at: the patient texted STOP (or the provider
-- reported an opt-out); nothing is attempted until START clears it. bounced_at: the provider
-- said the address cannot receive (number gone, user unavailable). last_inbound_at: the
-- patient's last message, which opens WhatsApp's and Messenger's 24-hour service window.
ALTER TABLE channel_identities ADD COLUMN opted_out_at BIGINT;
ALTER TABLE channel_identities ADD COLUMN opt_out_source TEXT;
ALTER TABLE channel_identities ADD COLUMN bounced_at BIGINT;
ALTER TABLE channel_identities ADD COLUMN bounce_reason TEXT;
ALTER TABLE channel_identities ADD COLUMN last_inbound_at BIGINT;

-- The clinic-side address a thread runs through (WhatsApp phone_number_id, Facebook page id,
-- SMS number): one Meta app or Twilio account can serve several; replies leave from it.
ALTER TABLE conversations ADD COLUMN via TEXT;

-- Delivery status as far as the provider reports it (never moves backwards).
ALTER TABLE messages ADD COLUMN delivered_at BIGINT;
ALTER TABLE messages ADD COLUMN read_at BIGINT;
-- The patient edited the message (WhatsApp edits): the body is the latest text.
ALTER TABLE messages ADD COLUMN edited_at BIGINT;

-- WhatsApp message templates, managed per channel; only approved ones are offered.
CREATE TABLE message_templates (
    id TEXT PRIMARY KEY,
    clinic_id TEXT NOT NULL REFERENCES clinics(id),
    channel_id TEXT NOT NULL REFERENCES channels(id),
    name TEXT NOT NULL,
    language TEXT NOT NULL,
    category TEXT NOT NULL,          -- MARKETING | UTILITY | AUTHENTICATION
    body TEXT NOT NULL,              -- with {{1}} … {{n}} placeholders
    variables BIGINT NOT NULL,
    -- draft | pending | approved | rejected | paused | disabled
    status TEXT NOT NULL,
    provider_template_id TEXT,
    status_reason TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    CONSTRAINT message_templates_channel_name_language_key UNIQUE (channel_id, name, language)
);

-- Per-sender and per-recipient pacing shared by every worker process: the earliest time the next
-- send under this key may leave. Keys hold hashes, never a patient's address.
CREATE TABLE send_pacing (
    pace_key TEXT PRIMARY KEY,
    next_at BIGINT NOT NULL
);
