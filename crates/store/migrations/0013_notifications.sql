-- The notification outbox (issue 13): what must reach a person outside the system (a police station
-- at night, a town's duty officer), written in the same transaction as the event, sent by the
-- server's dispatcher through a channel (log, e-mail; SMS/WeChat adapters plug in the same way).
ALTER TABLE users ADD COLUMN email TEXT;
CREATE TABLE notifications (
    id TEXT PRIMARY KEY,
    created_at TEXT NOT NULL,
    case_id TEXT,
    kind TEXT NOT NULL,
    recipient_user_id TEXT NOT NULL REFERENCES users (id),
    subject TEXT NOT NULL,
    body TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    sent_at TEXT,
    channel TEXT,
    last_error TEXT
);
CREATE INDEX notifications_due ON notifications (status, next_attempt_at);
CREATE INDEX notifications_case ON notifications (case_id)
