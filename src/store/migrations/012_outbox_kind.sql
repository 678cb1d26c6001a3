-- What a queued message is, so a chat's backlog can be merged after an outage: 'alert' and
-- 'routine' reports may be merged; 'reply' (the default: replies, requests, notices) never is.
ALTER TABLE outbox ADD COLUMN kind TEXT NOT NULL DEFAULT 'reply';
-- For mergeable rows: the report's parts as JSON (core::backlog::Meta).
ALTER TABLE outbox ADD COLUMN merge TEXT;
-- The text Telegram shows for a row's message when it is not the row's own (a merged backlog:
-- set on the newest row the message delivered), for edits that add a line to it.
ALTER TABLE outbox ADD COLUMN shown TEXT;
