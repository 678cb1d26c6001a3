-- Button tokens are looked up by token (primary key), trimmed by age and capped per chat: the
-- age trim and the per-chat cap run on every issue, so both need an index, not a table scan.
CREATE INDEX IF NOT EXISTS callbacks_chat_created ON callbacks(chat_id, created_at);
CREATE INDEX IF NOT EXISTS callbacks_created ON callbacks(created_at);
