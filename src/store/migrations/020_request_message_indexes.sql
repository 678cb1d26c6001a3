-- Request messages are looked up by their outbox row (settling, failed edits, a waiting copy)
-- and by their request; a non-approver's press looks up earlier refusals in the audit trail.
-- Without these each lookup scanned the whole table, which nothing prunes.
CREATE INDEX IF NOT EXISTS approval_messages_by_outbox ON approval_messages(outbox_id);
CREATE INDEX IF NOT EXISTS approval_messages_by_approval ON approval_messages(approval_id);
CREATE INDEX IF NOT EXISTS audit_by_approval ON audit(approval_id, event);
