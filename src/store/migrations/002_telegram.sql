ALTER TABLE outbox ADD COLUMN tg_message_id INTEGER;
CREATE TABLE callbacks (
  token TEXT PRIMARY KEY,
  chat_id INTEGER NOT NULL,
  action TEXT NOT NULL,
  job_id TEXT,
  arg TEXT,
  created_at INTEGER NOT NULL,
  used_at INTEGER,
  used_by INTEGER
);
CREATE TABLE events (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  at INTEGER NOT NULL,
  kind TEXT NOT NULL,
  chat_id INTEGER,
  user_id INTEGER,
  job_id TEXT,
  detail TEXT
);
