-- 委托监护: the checks of a child's carer (未成年人保护法 Art. 22's checklist and the initial
-- assessment of capacity, 沈阳 002 一2), sealed; the verdict and the next assessment in the clear.
CREATE TABLE carer_checks (
    id TEXT PRIMARY KEY,
    child_id TEXT NOT NULL REFERENCES children (id),
    verdict TEXT NOT NULL,
    next_due TEXT,
    user_id TEXT NOT NULL,
    username TEXT NOT NULL,
    at TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX carer_checks_child ON carer_checks (child_id, at);
CREATE INDEX carer_checks_due ON carer_checks (next_due);
