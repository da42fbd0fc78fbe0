-- The audit chain, version 2: each event's hash is keyed (HMAC with a key derived from the key
-- file) and covers every column, the user id and the region included. Events written before keep
-- version 1 and are verified as they were written.
ALTER TABLE audit_events ADD COLUMN hash_version INTEGER NOT NULL DEFAULT 1;
