-- A request shown in a message that shows more than it (the morning digest): settling it edits
-- only its own buttons away and adds its outcome line, keeping the rest of the message.
ALTER TABLE approval_messages ADD COLUMN shared INTEGER NOT NULL DEFAULT 0;
