-- Sessions end after a time without use as well as at their absolute end.
ALTER TABLE sessions ADD COLUMN last_seen TEXT NOT NULL DEFAULT '';
