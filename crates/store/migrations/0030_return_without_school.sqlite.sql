-- A 劝返 the county opens from 三方比对 (a child of school age missing from the student list) has
-- no school yet: the town and village organise it (龙里 003 五(三)2). SQLite cannot drop NOT NULL,
-- so the table is rebuilt.
CREATE TABLE return_tasks_new (
    id TEXT PRIMARY KEY,
    child_id TEXT NOT NULL REFERENCES children (id),
    agency_id TEXT REFERENCES agencies (id),
    village_code BIGINT NOT NULL,
    away_from TEXT NOT NULL,
    away_to TEXT NOT NULL,
    status TEXT NOT NULL,
    steps TEXT NOT NULL,
    outcome_note TEXT,
    marked_on TEXT,
    opened_at TEXT NOT NULL,
    closed_at TEXT,
    closed_by TEXT,
    version BIGINT NOT NULL,
    source TEXT
);
INSERT INTO return_tasks_new (id, child_id, agency_id, village_code, away_from, away_to, status, steps,
    outcome_note, marked_on, opened_at, closed_at, closed_by, version)
SELECT id, child_id, agency_id, village_code, away_from, away_to, status, steps, outcome_note, marked_on,
    opened_at, closed_at, closed_by, version FROM return_tasks;
DROP TABLE return_tasks;
ALTER TABLE return_tasks_new RENAME TO return_tasks;
CREATE INDEX return_tasks_child ON return_tasks (child_id, status);
CREATE INDEX return_tasks_area ON return_tasks (village_code, status);
CREATE INDEX return_tasks_agency ON return_tasks (agency_id, status);
CREATE UNIQUE INDEX return_tasks_one_open ON return_tasks (child_id) WHERE status = 'open';
