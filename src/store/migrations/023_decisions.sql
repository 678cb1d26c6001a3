-- What people decided about a job (ack, snooze, stop, start), apart from what the ticks
-- observed: written only by a person's action, read by every tick, never written by one.
CREATE TABLE job_decisions (
    job_id TEXT PRIMARY KEY,
    acked_key TEXT,
    acked_at INTEGER,
    snoozed_until INTEGER,
    stopped_at INTEGER,
    started_at INTEGER
);
-- A snooze that holds for one chat only (a non-approver's).
CREATE TABLE chat_snoozes (
    job_id TEXT NOT NULL,
    chat_id INTEGER NOT NULL,
    until INTEGER NOT NULL,
    PRIMARY KEY (job_id, chat_id)
);
-- Job state rows that could not be read: kept for a person to look at, the job starts fresh.
CREATE TABLE job_state_unreadable (
    job_id TEXT NOT NULL,
    raw TEXT NOT NULL,
    error TEXT NOT NULL,
    at INTEGER NOT NULL
);
INSERT INTO job_decisions(job_id, acked_key, acked_at, snoozed_until, stopped_at)
SELECT job_id,
       json_extract(state, '$.acked_anomaly_key'),
       CASE WHEN json_extract(state, '$.acked_anomaly_key') IS NOT NULL THEN CAST(strftime('%s', 'now') AS INTEGER) END,
       json_extract(state, '$.snoozed_until'),
       CASE WHEN json_extract(state, '$.stopped_on_purpose') THEN COALESCE(json_extract(state, '$.stopped_at'), 0) END
FROM job_state WHERE json_valid(state);
-- The buttons (by action, space-separated) an amended alert loses with its added lines:
-- "start" once its job runs again, "ack snooze" once it was acknowledged.
ALTER TABLE alert_messages ADD COLUMN gone TEXT;
