-- A user an administrator created signs in with a password someone else chose: they must set
-- their own before doing anything else.
ALTER TABLE users ADD COLUMN must_change_password BIGINT NOT NULL DEFAULT 0;
