-- The host user (uid) who asked for a write run, so approval.distinctApprover holds on the host.
ALTER TABLE approvals ADD COLUMN requested_uid INTEGER;
