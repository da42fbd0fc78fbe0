-- A help plan's referrals: each to a provider organisation (an agency) that accepts or declines
-- and records what it delivered. The town's note and the provider's records are sealed.
CREATE TABLE case_referrals (
    id TEXT PRIMARY KEY,
    case_id TEXT NOT NULL REFERENCES protection_cases (id),
    kind TEXT NOT NULL,
    agency_id TEXT NOT NULL REFERENCES agencies (id),
    status TEXT NOT NULL,
    referred_at TEXT NOT NULL,
    referred_by TEXT NOT NULL,
    answered_at TEXT,
    delivered_at TEXT,
    note TEXT NOT NULL,
    log TEXT NOT NULL,
    version BIGINT NOT NULL
);
CREATE INDEX case_referrals_case ON case_referrals (case_id);
CREATE INDEX case_referrals_agency ON case_referrals (agency_id, status)
