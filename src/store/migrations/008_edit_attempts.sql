-- Failed edits of a request message, so an edit whose answer never parses is given up.
ALTER TABLE approval_messages ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
