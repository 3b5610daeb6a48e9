-- The tab counts of a filtered inbox view read only index entries, never rows: a team's
-- 未割り当て and 自分の担当 legs (team, state and assignee in one index), and a channel's
-- states over a date range (channel, state, last message). Without them each leg checked up
-- to 1,000 rows one by one (~12 ms of a team's or a channel-and-month page at a million
-- messages).
CREATE INDEX conversations_team_assignee_idx
    ON conversations(clinic_id, team_id, status, assignee_id);
CREATE INDEX conversations_channel_status_idx
    ON conversations(clinic_id, channel_id, status, last_message_at);
-- The unread legs of a filtered view (a channel, a team, a date range) check their facets in
-- the unread index itself: it holds only conversations with unread messages, a few hundred,
-- so carrying the facets costs little, and a month long past no longer reads each of their
-- rows to find none.
DROP INDEX conversations_unread_idx;
CREATE INDEX conversations_unread_idx
    ON conversations(clinic_id, status, assignee_id, unread_count, channel_id, team_id, priority, last_message_at)
    WHERE unread_count > 0;
