-- Whether the chat's pending live update carries routine progress (1: it may be sent anew, moved
-- to the bottom) or only takes jobs that left out of the message (0: an edit in place or nothing).
ALTER TABLE live_message ADD COLUMN moves INTEGER NOT NULL DEFAULT 1;
