-- Who asked for a queued reply and with which command ("<user>:status"): a person's burst of one
-- command keeps one pending answer (refreshed), and a chat's pending replies are capped.
ALTER TABLE outbox ADD COLUMN reply_key TEXT;
CREATE INDEX outbox_pending_reply ON outbox(chat_id, reply_key) WHERE status = 'pending';
