-- Visits (走访、探访、随访) and the parents' contact log (委托监护, 未成年人保护法 Art. 23): the columns
-- the due lists and figures need plain, what the visitor saw and where sealed (`body`).
CREATE TABLE visits (
    id TEXT PRIMARY KEY,
    child_id TEXT NOT NULL REFERENCES children (id),
    case_id TEXT REFERENCES protection_cases (id),
    visited_on TEXT COLLATE "C" NOT NULL,
    method TEXT NOT NULL,
    condition TEXT NOT NULL,
    reportable BIGINT NOT NULL,
    user_id TEXT NOT NULL,
    username TEXT NOT NULL,
    at TEXT NOT NULL,
    client_key TEXT,
    body TEXT NOT NULL
);
CREATE INDEX visits_child ON visits (child_id, visited_on);
CREATE INDEX visits_case ON visits (case_id);
-- A record a phone sends twice is kept once (NULL keys are distinct in both databases).
CREATE UNIQUE INDEX visits_client_key ON visits (user_id, client_key);

CREATE TABLE parent_contacts (
    id TEXT PRIMARY KEY,
    child_id TEXT NOT NULL REFERENCES children (id),
    contacted_on TEXT COLLATE "C" NOT NULL,
    reached BIGINT NOT NULL,
    support BIGINT NOT NULL,
    user_id TEXT NOT NULL,
    username TEXT NOT NULL,
    at TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX parent_contacts_child ON parent_contacts (child_id, contacted_on)
;

-- A report on a child not yet registered puts the child in the town's queue; registering the child
-- from the queue links the file to the case, so that the case's follow-up reaches the file.
ALTER TABLE discovery_reports ADD COLUMN case_id TEXT
