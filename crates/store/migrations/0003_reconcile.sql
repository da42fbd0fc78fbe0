-- 三方比对: a comparison of the roster with the education or household list (a run), and its
-- findings (items) for people to accept, reject or assign. What an item shows — the child's and
-- the list's name, birth date and ID number, some of them children on no roster — is encrypted in
-- `doc`; the columns hold only what scoping and queues need. The uploaded list itself is not kept.
CREATE TABLE reconcile_runs (
    id TEXT PRIMARY KEY,
    region_code TEXT COLLATE "C" NOT NULL,
    list_kind TEXT NOT NULL,
    source_name TEXT NOT NULL,
    created_at TEXT NOT NULL,
    created_by TEXT NOT NULL,
    tally TEXT NOT NULL
);
CREATE INDEX reconcile_runs_region ON reconcile_runs (region_code, created_at);

CREATE TABLE reconcile_items (
    id TEXT PRIMARY KEY,
    run_id TEXT NOT NULL REFERENCES reconcile_runs (id),
    seq BIGINT NOT NULL,
    kind TEXT NOT NULL,
    region_code TEXT COLLATE "C" NOT NULL,
    child_id TEXT REFERENCES children (id),
    status TEXT NOT NULL,
    assignee_role TEXT,
    assignee_region TEXT COLLATE "C",
    assignee_agency TEXT REFERENCES agencies (id),
    doc TEXT NOT NULL,
    decided_by TEXT,
    decided_at TEXT,
    note TEXT
);
CREATE UNIQUE INDEX reconcile_items_run ON reconcile_items (run_id, seq);
CREATE INDEX reconcile_items_region ON reconcile_items (region_code, status);
CREATE INDEX reconcile_items_assignee ON reconcile_items (assignee_role, assignee_region, status);
CREATE INDEX reconcile_items_agency ON reconcile_items (assignee_agency, status)
