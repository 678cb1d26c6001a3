-- Bulk messages (requests to approvers, routine progress) wait behind a chat's alerts and replies.
ALTER TABLE outbox ADD COLUMN bulk INTEGER NOT NULL DEFAULT 0;
