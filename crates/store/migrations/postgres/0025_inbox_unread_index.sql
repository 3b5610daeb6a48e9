-- The inbox's unread figures (the header's total, each tab's unread count) read only the
-- conversations with unread messages, a few hundred however long the clinic's history:
-- without this index they read every conversation of the clinic (100,000 rows: 100 ms).
CREATE INDEX conversations_unread_idx
    ON conversations(clinic_id, status, assignee_id, unread_count) WHERE unread_count > 0;
