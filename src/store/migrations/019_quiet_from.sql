-- When each job was first polled inside its quiet hours: the morning digest's "progress then" is
-- its sample at that moment, whatever the quiet window says by morning (edited, removed).
CREATE TABLE quiet_from (
  job_id TEXT PRIMARY KEY,
  at INTEGER NOT NULL
);
