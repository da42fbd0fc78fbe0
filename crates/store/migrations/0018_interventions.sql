-- Guardianship intervention (监护干预): each measure's steps as recorded — measure and stage codes
-- plain (counted), the note and the revocation's ground and parties sealed.
CREATE TABLE case_interventions (
    id TEXT PRIMARY KEY,
    case_id TEXT NOT NULL REFERENCES protection_cases (id),
    at TEXT NOT NULL,
    user_id TEXT NOT NULL,
    username TEXT NOT NULL,
    measure TEXT NOT NULL,
    stage TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX case_interventions_case ON case_interventions (case_id, at)
