-- Shouwang foundation schema. Portable between SQLite and PostgreSQL: TEXT and BIGINT only,
-- booleans as 0/1, timestamps as RFC 3339 UTC text, dates as YYYY-MM-DD text, division codes as
-- 12-digit BIGINT (a jurisdiction is a range). COLLATE "C" is removed for SQLite (BINARY there).

CREATE TABLE regions (
    code TEXT COLLATE "C" PRIMARY KEY,
    code12 BIGINT NOT NULL,
    name TEXT NOT NULL,
    level TEXT NOT NULL,
    parent_code TEXT COLLATE "C"
);
CREATE INDEX regions_parent ON regions (parent_code, code);
CREATE INDEX regions_name ON regions (name);

CREATE TABLE agencies (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    region_code TEXT COLLATE "C" NOT NULL REFERENCES regions (code),
    created_at TEXT NOT NULL
);
CREATE UNIQUE INDEX agencies_region_name ON agencies (region_code, name);

CREATE TABLE users (
    id TEXT PRIMARY KEY,
    username TEXT COLLATE "C" NOT NULL UNIQUE,
    display_name TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL,
    region_code TEXT COLLATE "C" NOT NULL REFERENCES regions (code),
    agency_id TEXT REFERENCES agencies (id),
    active BIGINT NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL
);

CREATE TABLE sessions (
    id_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id),
    csrf_token TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE api_tokens (
    token_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id),
    name TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);

CREATE TABLE login_failures (
    id TEXT PRIMARY KEY,
    username TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX login_failures_user ON login_failures (username, at);

CREATE TABLE children (
    id TEXT PRIMARY KEY,
    village_code BIGINT NOT NULL,
    name TEXT COLLATE "C" NOT NULL,
    name_pinyin TEXT COLLATE "C" NOT NULL,
    name_initials TEXT COLLATE "C" NOT NULL,
    sex TEXT NOT NULL,
    birth_date TEXT COLLATE "C" NOT NULL,
    id_cipher TEXT,
    id_hash TEXT,
    id_masked TEXT,
    status TEXT NOT NULL,
    qualifies BIGINT NOT NULL,
    guardianship_type TEXT NOT NULL,
    schooling TEXT NOT NULL,
    flags BIGINT NOT NULL,
    exit_reason TEXT,
    exit_date TEXT,
    version BIGINT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
-- Covers the roster's filters and default order, so counting and paging a town never reads rows.
CREATE INDEX children_roster ON children (village_code, name, id, status, qualifies, birth_date, guardianship_type, schooling, flags);
CREATE INDEX children_name ON children (name, village_code);
CREATE INDEX children_pinyin ON children (name_pinyin, village_code);
CREATE INDEX children_initials ON children (name_initials, village_code);
CREATE INDEX children_id_hash ON children (id_hash);
CREATE INDEX children_birth ON children (birth_date, name);

-- The whole file, encrypted (AES-256-GCM), apart from the narrow searchable row.
CREATE TABLE child_docs (
    child_id TEXT PRIMARY KEY REFERENCES children (id),
    doc TEXT NOT NULL
);

CREATE TABLE child_agencies (
    child_id TEXT NOT NULL REFERENCES children (id),
    agency_id TEXT NOT NULL REFERENCES agencies (id),
    PRIMARY KEY (agency_id, child_id)
);

CREATE TABLE child_history (
    id TEXT PRIMARY KEY,
    child_id TEXT NOT NULL REFERENCES children (id),
    version BIGINT NOT NULL,
    at TEXT NOT NULL,
    user_id TEXT NOT NULL,
    username TEXT NOT NULL,
    kind TEXT NOT NULL,
    changes TEXT NOT NULL
);
CREATE UNIQUE INDEX child_history_version ON child_history (child_id, version);

CREATE TABLE discovery_reports (
    id TEXT PRIMARY KEY,
    created_at TEXT NOT NULL,
    reporter_user_id TEXT NOT NULL REFERENCES users (id),
    reporter_org TEXT NOT NULL,
    town_code TEXT COLLATE "C" NOT NULL REFERENCES regions (code),
    village_code TEXT COLLATE "C",
    child_name TEXT NOT NULL,
    sex TEXT,
    birth_date TEXT,
    situation TEXT NOT NULL,
    reporter_phone TEXT,
    status TEXT NOT NULL,
    child_id TEXT REFERENCES children (id),
    handled_by TEXT,
    handled_at TEXT,
    handling_note TEXT
);
CREATE INDEX discovery_town ON discovery_reports (town_code, status, created_at);

CREATE TABLE audit_head (
    id BIGINT PRIMARY KEY,
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash) VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

CREATE TABLE audit_events (
    seq BIGINT PRIMARY KEY,
    at TEXT NOT NULL,
    user_id TEXT,
    username TEXT NOT NULL,
    action TEXT NOT NULL,
    entity TEXT NOT NULL,
    entity_id TEXT,
    region_code TEXT COLLATE "C",
    detail TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX audit_user ON audit_events (username, seq);
CREATE INDEX audit_entity ON audit_events (entity_id, seq);
CREATE INDEX audit_region ON audit_events (region_code, seq)
