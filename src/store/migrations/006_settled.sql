ALTER TABLE approval_messages ADD COLUMN settled INTEGER NOT NULL DEFAULT 0;
UPDATE approval_messages SET settled=1 WHERE approval_id IN (SELECT id FROM approvals WHERE state!='pending');
CREATE INDEX events_by_kind ON events(kind, id);
