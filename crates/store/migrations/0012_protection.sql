-- 保护个案 (issue 13): one case per incident, the mandatory report that opened it, and its timeline.
-- What says who the child is, what happened or who reported it is sealed (`body`, `detail`); the
-- codes that are counted (situations, severity, status, times) are plain.
CREATE TABLE protection_cases (
    id TEXT PRIMARY KEY,
    child_id TEXT REFERENCES children (id),
    town_code TEXT COLLATE "C" NOT NULL,
    village_code TEXT COLLATE "C" NOT NULL,
    status TEXT NOT NULL,
    situations TEXT NOT NULL,
    severity TEXT NOT NULL,
    opened_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    closed_at TEXT,
    close_requested_by TEXT,
    version BIGINT NOT NULL
);
CREATE INDEX protection_cases_area ON protection_cases (village_code, status, opened_at);
CREATE INDEX protection_cases_child ON protection_cases (child_id);

CREATE TABLE protection_reports (
    id TEXT PRIMARY KEY,
    case_id TEXT NOT NULL REFERENCES protection_cases (id),
    reporter_user_id TEXT NOT NULL REFERENCES users (id),
    reporter_role TEXT NOT NULL,
    -- The police org the report went to: the child's town if it has a police user, else the county.
    receiving_org TEXT COLLATE "C" NOT NULL,
    town_code TEXT COLLATE "C" NOT NULL,
    village_code TEXT COLLATE "C" NOT NULL,
    status TEXT NOT NULL,
    filed_at TEXT NOT NULL,
    discovered_at TEXT NOT NULL,
    received_at TEXT,
    received_by TEXT,
    escalated_at TEXT,
    accepted_at TEXT,
    feedback_at TEXT,
    body TEXT NOT NULL
);
CREATE INDEX protection_reports_inbox ON protection_reports (receiving_org, status, filed_at);
CREATE INDEX protection_reports_area ON protection_reports (village_code, status, filed_at);
CREATE INDEX protection_reports_reporter ON protection_reports (reporter_user_id, filed_at);
CREATE INDEX protection_reports_unreceived ON protection_reports (status, escalated_at, filed_at);

CREATE TABLE case_events (
    id TEXT PRIMARY KEY,
    case_id TEXT NOT NULL REFERENCES protection_cases (id),
    at TEXT NOT NULL,
    user_id TEXT,
    username TEXT NOT NULL,
    role TEXT NOT NULL,
    kind TEXT NOT NULL,
    code TEXT,
    outcome TEXT,
    detail TEXT NOT NULL
);
CREATE INDEX case_events_case ON case_events (case_id, at)
