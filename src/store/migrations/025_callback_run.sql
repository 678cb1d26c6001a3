-- The run a job button was issued about (the start of that run, Unix seconds): a press on an
-- alert about an earlier run is refused instead of acting on the run started since. NULL: the
-- button is not tied to a run (pickers, /status).
ALTER TABLE callbacks ADD COLUMN run_started_at INTEGER;
