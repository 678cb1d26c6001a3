-- Host requests decided before any chat was shown them are now announced, as they ended. The
-- ones decided before this version are history: marked announced here, so an upgrade does not
-- post them all at once.
INSERT INTO audit(at, approval_id, job_id, event, actor, detail)
SELECT CAST(strftime('%s', 'now') AS INTEGER), a.id, a.job_id, 'announced', NULL, 'decided before this version; not posted'
FROM approvals a
WHERE a.state != 'pending' AND NOT EXISTS (SELECT 1 FROM audit WHERE approval_id = a.id AND event = 'announced');
