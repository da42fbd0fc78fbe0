-- Hardening II (issue 24).
-- A pending session's recovery-code attempts are counted on the session: the owner's own
-- session is never throttled by an attacker's guesses (80-bit codes need no per-user budget).
ALTER TABLE sessions ADD COLUMN recovery_attempts BIGINT NOT NULL DEFAULT 0;
-- Login failures are pruned past their window (by time), and refusals while throttled are
-- counted in one row per account and address instead of a row and an audit event each.
CREATE INDEX login_failures_at ON login_failures (at);
CREATE TABLE login_refusals (
    username TEXT NOT NULL,
    address TEXT NOT NULL,
    first_at TEXT NOT NULL,
    last_at TEXT NOT NULL,
    refused BIGINT NOT NULL,
    PRIMARY KEY (username, address)
);
-- When the session last passed its second factor: administrators' changes need it fresh.
ALTER TABLE sessions ADD COLUMN factor_at TEXT NOT NULL DEFAULT '';
