-- The alerts that rang during quiet hours are remembered too (rang = 1), so the morning digest
-- can say which alerts were raised in the night and whether they are still open.
ALTER TABLE quiet_held ADD COLUMN rang INTEGER NOT NULL DEFAULT 0;
