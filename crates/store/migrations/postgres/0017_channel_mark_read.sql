-- Whether opening a conversation shows the patient their messages were read (LINE's
-- markAsRead). Off by default: it works only while the account's chat setting is on.
ALTER TABLE channels ADD COLUMN mark_read_on_open BIGINT NOT NULL DEFAULT 0;
