-- The town's assessments of a case (safety, guardianship, physical and mental health, the child's
-- own view): sealed; the resulting risk level is kept on the case (it sets how often the child is
-- visited).
ALTER TABLE protection_cases ADD COLUMN risk_level TEXT;
CREATE TABLE case_assessments (
    id TEXT PRIMARY KEY,
    case_id TEXT NOT NULL REFERENCES protection_cases (id),
    at TEXT NOT NULL,
    user_id TEXT NOT NULL,
    username TEXT NOT NULL,
    risk TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX case_assessments_case ON case_assessments (case_id, at)
