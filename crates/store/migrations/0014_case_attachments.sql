-- Evidence on a case (photos, PDFs): type- and size-checked on upload, sealed at rest like the
-- child file (name and bytes), read only by those who work on the case and the uploader.
CREATE TABLE case_attachments (
    id TEXT PRIMARY KEY,
    case_id TEXT NOT NULL REFERENCES protection_cases (id),
    at TEXT NOT NULL,
    user_id TEXT NOT NULL,
    username TEXT NOT NULL,
    kind TEXT NOT NULL,
    size BIGINT NOT NULL,
    name TEXT NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX case_attachments_case ON case_attachments (case_id, at)
