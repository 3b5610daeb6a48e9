-- Routing (issue 11 item 2): teams with an assignment mode, each staff member's availability
-- and capacity per clinic, and the team a channel's new conversations go to. Queries live in
-- `inbox::routing`.

-- off | round_robin | least_busy: how the team hands a waiting conversation to a member.
ALTER TABLE teams ADD COLUMN assign_mode TEXT NOT NULL DEFAULT 'off';

-- One row per staff member and clinic, made when someone first sets it; no row reads as
-- offline with the default capacity. `assign_ticket` is taken from a clinic-wide counter each
-- time the member is given a conversation automatically: round-robin picks the lowest, and a
-- claim succeeds only if the ticket is still the one read (compare-and-set), so two dispatches
-- at once never both count the same free slot.
CREATE TABLE staff_routing (
    clinic_id TEXT NOT NULL REFERENCES clinics(id),
    staff_id TEXT NOT NULL REFERENCES staff(id),
    availability TEXT NOT NULL DEFAULT 'offline',   -- online | away | offline
    capacity INTEGER NOT NULL DEFAULT 10,            -- open conversations assigned, at most
    assign_ticket INTEGER NOT NULL DEFAULT 0,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (clinic_id, staff_id)
);

-- Where a new (or unassigned) conversation of this channel waits: NULL = no team.
ALTER TABLE channels ADD COLUMN default_team_id TEXT;

CREATE INDEX team_members_staff_idx ON team_members(staff_id);
CREATE INDEX teams_clinic_idx ON teams(clinic_id);
-- Each member's open load, counted at every automatic assignment, and a team's queue read
-- the views' indexes of 0014 (clinic_id, assignee_id, status, …) and (clinic_id, team_id, …).
