CREATE TABLE chat_prefs (
  chat_id INTEGER PRIMARY KEY,
  locale TEXT NOT NULL,
  source TEXT NOT NULL,
  set_by INTEGER,
  set_at INTEGER NOT NULL
);
