-- Temporary guardianship (未成年人保护法 Art. 92–93): why, where, the carer, start and end, and the
-- assessment before the child returns — sealed; `open` says whether it is running (counted).
CREATE TABLE case_placements (
    id TEXT PRIMARY KEY,
    case_id TEXT NOT NULL REFERENCES protection_cases (id),
    at TEXT NOT NULL,
    username TEXT NOT NULL,
    open BIGINT NOT NULL,
    body TEXT NOT NULL,
    version BIGINT NOT NULL
);
CREATE INDEX case_placements_case ON case_placements (case_id)
