-- A second factor (TOTP, RFC 6238): the secret sealed like personal data, the one being set up
-- until a code confirms it, and the last time step used (a code is accepted once).
ALTER TABLE users ADD COLUMN totp_secret TEXT;
ALTER TABLE users ADD COLUMN totp_pending TEXT;
ALTER TABLE users ADD COLUMN totp_last_step BIGINT NOT NULL DEFAULT 0;
-- What a session still lacks: '' nothing, 'code' the code of an enrolled user, 'enrol' the setting
-- up of a second factor its role requires.
ALTER TABLE sessions ADD COLUMN second_factor TEXT NOT NULL DEFAULT '';
-- Recovery codes (for a lost phone): only their hashes, each used once.
CREATE TABLE second_factor_recovery (
    user_id TEXT NOT NULL,
    code_hash TEXT NOT NULL,
    used_at TEXT,
    PRIMARY KEY (user_id, code_hash)
);
-- Wrong codes per user: counted over a window, whatever the session or address (a password
-- thief must not get fresh guesses by signing in again).
CREATE TABLE second_factor_failures (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX second_factor_failures_user ON second_factor_failures (user_id, at);
