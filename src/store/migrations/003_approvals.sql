CREATE TABLE approvals (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  job_id TEXT NOT NULL,
  digest TEXT NOT NULL,
  argv TEXT NOT NULL,
  cwd TEXT NOT NULL,
  requested_by INTEGER,
  requested_via TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  state TEXT NOT NULL,
  decided_by TEXT,
  decided_at INTEGER,
  run_id INTEGER
);
CREATE TABLE approval_messages (approval_id INTEGER NOT NULL, outbox_id INTEGER NOT NULL);
CREATE TABLE audit (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  at INTEGER NOT NULL,
  approval_id INTEGER,
  job_id TEXT NOT NULL,
  event TEXT NOT NULL,
  actor TEXT,
  detail TEXT
);
CREATE INDEX audit_by_job ON audit(job_id, id);
