-- Routing until done (issue 15): a child referred to the police station (no hukou) or to a county
-- department (hardship, illness, disability) — 龙里 003 五(四), 五(五). One row per unit; the
-- receiving unit's inbox and the sender's list read it until it is closed. Notes and the event
-- log are sealed; the hukou number too.
CREATE TABLE routings (
    id TEXT PRIMARY KEY,
    child_id TEXT NOT NULL REFERENCES children (id),
    village_code BIGINT NOT NULL,
    need TEXT NOT NULL,
    unit TEXT NOT NULL,
    status TEXT NOT NULL,
    note TEXT,
    events TEXT NOT NULL,
    registered_on TEXT,
    hukou_number TEXT,
    dna_collected BIGINT,
    source TEXT,
    sent_by TEXT NOT NULL,
    sent_at TEXT NOT NULL,
    closed_at TEXT,
    version BIGINT NOT NULL
);
CREATE INDEX routings_child ON routings (child_id, sent_at);
CREATE INDEX routings_inbox ON routings (unit, village_code, status);
CREATE INDEX routings_area ON routings (village_code, status);
-- One open routing of a child for a need to a unit: a second send answers with the first.
CREATE UNIQUE INDEX routings_one_open ON routings (child_id, need, unit) WHERE status IN ('sent', 'accepted');
