-- Reports a tick decided on, written in the tick's own transaction and removed once the sink has
-- queued them: a kill -9 between the two no longer loses a report (a verification, an alert);
-- the next start delivers what is left here.
CREATE TABLE report_spool (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  at INTEGER NOT NULL,
  sections TEXT NOT NULL
);
