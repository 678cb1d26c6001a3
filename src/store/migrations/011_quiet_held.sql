-- Report sections held during quiet hours (completions, status changes, recoveries): only alerts
-- ring at night; these go out as one digest per report chat when the quiet hours end.
CREATE TABLE quiet_held (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  at INTEGER NOT NULL,
  job_id TEXT NOT NULL,
  section TEXT NOT NULL
);
