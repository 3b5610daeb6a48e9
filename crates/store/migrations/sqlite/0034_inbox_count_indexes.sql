-- The tab counts of a filtered inbox view read only index entries, never rows: a team's
-- 未割り当て and 自分の担当 legs (team, state and assignee in one index), and a channel's
-- states over a date range (channel, state, last message). Without them each leg checked up
-- to 1,000 rows one by one (~12 ms of a team's or a channel-and-month page at a million
-- messages).
CREATE INDEX conversations_team_assignee_idx
    ON conversations(clinic_id, team_id, status, assignee_id);
CREATE INDEX conversations_channel_status_idx
    ON conversations(clinic_id, channel_id, status, last_message_at);
