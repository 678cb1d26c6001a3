-- Progress history per job: one sample per status poll for the last 24 h, thinned beyond, so the
-- rate, the ETA and /chart come from what was measured. `percent` marks percent-only jobs.
CREATE TABLE progress_samples (
  job_id TEXT NOT NULL,
  at INTEGER NOT NULL,
  done REAL NOT NULL,
  total REAL,
  percent INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (job_id, at)
) WITHOUT ROWID;
