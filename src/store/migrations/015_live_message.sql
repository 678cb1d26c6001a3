-- One live progress message per report chat: the routine progress of every running job in one
-- message, edited in place. `parts` is JSON (policy::live::LivePart, in the chat's language);
-- tg_message_id is NULL until it is sent (or after Telegram lost it). `stale` (JSON ids) are
-- replaced live messages still to be deleted; `later_id` is the newest message posted to the
-- chat outside the outbox (a photo, a person's own message).
CREATE TABLE live_message (
  chat_id INTEGER PRIMARY KEY,
  parts TEXT NOT NULL DEFAULT '[]',
  tg_message_id INTEGER,
  sent_at INTEGER,
  edited_at INTEGER,
  hash TEXT,
  stale TEXT NOT NULL DEFAULT '[]',
  later_id INTEGER NOT NULL DEFAULT 0
);
