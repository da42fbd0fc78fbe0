-- 控辍保学 at school (issue 15): the absences a pupil's school records, one row per day, and the
-- 劝返 that more than a week away starts (沈阳 002 一3; 龙里 003 五(三)2). Notes are sealed.
CREATE TABLE absences (
    id TEXT PRIMARY KEY,
    child_id TEXT NOT NULL REFERENCES children (id),
    agency_id TEXT NOT NULL REFERENCES agencies (id),
    day TEXT COLLATE "C" NOT NULL,
    excused BIGINT NOT NULL,
    note TEXT,
    user_id TEXT NOT NULL,
    username TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE UNIQUE INDEX absences_day ON absences (child_id, day);
CREATE TABLE return_tasks (
    id TEXT PRIMARY KEY,
    child_id TEXT NOT NULL REFERENCES children (id),
    agency_id TEXT NOT NULL REFERENCES agencies (id),
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
    version BIGINT NOT NULL
);
CREATE INDEX return_tasks_child ON return_tasks (child_id, status);
CREATE INDEX return_tasks_area ON return_tasks (village_code, status);
CREATE INDEX return_tasks_agency ON return_tasks (agency_id, status);
