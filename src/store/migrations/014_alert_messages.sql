-- The keyboard a delivered message shows now when it is not the row's own (a merged backlog, or
-- after an edit), so a later edit keeps its other buttons.
ALTER TABLE outbox ADD COLUMN shown_markup TEXT;
-- Which outbox rows show a job's alert, so the alert can be edited (when auto-resume brings the
-- job back) instead of a second message being sent; `amend` is the line still to add to the
-- delivered message.
CREATE TABLE alert_messages (
  outbox_id INTEGER PRIMARY KEY,
  chat_id INTEGER NOT NULL,
  job_id TEXT NOT NULL,
  anomaly_key TEXT NOT NULL,
  amend TEXT,
  attempts INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX alert_messages_by_alert ON alert_messages(chat_id, job_id, anomaly_key);
