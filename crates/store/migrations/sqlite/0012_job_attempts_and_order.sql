-- Several instances and restarts (issue 10).

-- When the current attempt reached the point of no return (just before the provider call),
-- committed before the call; NULL while the job is queued or claimed but not yet started. A
-- job whose worker vanished with no started attempt never left: it goes back to the queue
-- instead of being held "in doubt" for staff.
ALTER TABLE outbox_jobs ADD COLUMN attempt_started_at INTEGER;

-- Jobs with the same key run one at a time, in the order they were queued: a message's send
-- carries its conversation, so a person's lines leave in the order written, whichever worker
-- claims them.
ALTER TABLE outbox_jobs ADD COLUMN ordering_key TEXT;
CREATE INDEX outbox_jobs_ordering_idx ON outbox_jobs(ordering_key, created_at)
    WHERE state IN ('queued', 'running');

-- Sends queued before the upgrade take their message's conversation.
UPDATE outbox_jobs SET ordering_key = (
    SELECT m.conversation_id FROM messages m WHERE m.id = json_extract(outbox_jobs.payload, '$.message_id')
) WHERE kind IN ('message.send', 'line.reply') AND state IN ('queued', 'running');
