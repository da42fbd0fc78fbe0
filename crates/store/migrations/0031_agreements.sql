-- 委托监护 agreements as tracked documents (issue 15): the 确认书 / 责任书 signed by the parents and
-- the carer (龙里 003 五(一)1, 附件1–2), its term and whether the school and the village were told;
-- the scan of the signed paper, sealed like the file. A newer agreement replaces the last one.
CREATE TABLE agreements (
    id TEXT PRIMARY KEY,
    child_id TEXT NOT NULL REFERENCES children (id),
    kind TEXT NOT NULL,
    signed_on TEXT NOT NULL,
    ends_on TEXT COLLATE "C" NOT NULL,
    body TEXT NOT NULL,
    scan_kind TEXT,
    scan_size BIGINT,
    scan TEXT,
    replaced_by TEXT,
    user_id TEXT NOT NULL,
    username TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE INDEX agreements_child ON agreements (child_id, at);
CREATE INDEX agreements_current_end ON agreements (ends_on) WHERE replaced_by IS NULL
