-- Long work (an import's reading and commit, a comparison) as rows, so that it belongs to its
-- owner, is limited per owner, shows its progress and outlives a restart of the server.
-- state: waiting (for the person: a plan to commit, columns to confirm), running, done, failed.
-- phase: what a running job is doing (reading, committing, comparing…); detail and result are
-- JSON of the feature that owns the kind.
CREATE TABLE jobs (
    id TEXT COLLATE "C" PRIMARY KEY,
    owner_id TEXT COLLATE "C" NOT NULL,
    kind TEXT NOT NULL,
    state TEXT NOT NULL,
    phase TEXT NOT NULL,
    progress TEXT NOT NULL,
    detail TEXT NOT NULL,
    result TEXT NOT NULL,
    message TEXT,
    created_at TEXT COLLATE "C" NOT NULL,
    updated_at TEXT COLLATE "C" NOT NULL,
    finished_at TEXT
);
CREATE INDEX jobs_owner ON jobs (owner_id, state, created_at);

-- The uploaded file a job works on, encrypted like the child files; deleted once it is read or
-- the job ends.
CREATE TABLE job_files (
    job_id TEXT COLLATE "C" PRIMARY KEY REFERENCES jobs (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    content TEXT NOT NULL
);
