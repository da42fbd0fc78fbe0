-- A visit's photos (issue 15: 走访…拍照): images only, type read from the bytes, sealed at rest like
-- the file, at most a few per visit, read by those who see the child (each read audited).
CREATE TABLE visit_photos (
    id TEXT PRIMARY KEY,
    visit_id TEXT NOT NULL REFERENCES visits (id),
    child_id TEXT NOT NULL REFERENCES children (id),
    kind TEXT NOT NULL,
    size BIGINT NOT NULL,
    data TEXT NOT NULL,
    user_id TEXT NOT NULL,
    username TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX visit_photos_child ON visit_photos (child_id, visit_id)
