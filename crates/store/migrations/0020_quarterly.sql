-- The 汇总表's cells of each file (`summary_table::cells_code`), so that any area's table is a
-- grouped count over the narrow rows, filled by the derivation pass at open.
ALTER TABLE children ADD COLUMN summary_cells TEXT COLLATE "C" NOT NULL DEFAULT '';

-- Quarterly reports (每季度报送; 龙里 003 七(二), 武清 004 二(四)): a unit's 汇总表 as of the quarter's
-- end, frozen when made (`figures`, and for a town the roster it counted, sealed), submitted with
-- its signers, approved or returned by the level above; approved reports are locked.
CREATE TABLE quarterly_reports (
    id TEXT PRIMARY KEY,
    region_code TEXT COLLATE "C" NOT NULL REFERENCES regions (code),
    quarter TEXT COLLATE "C" NOT NULL,
    status TEXT NOT NULL,
    as_of TEXT NOT NULL,
    figures TEXT NOT NULL,
    unit_figures TEXT NOT NULL,
    unplaced BIGINT NOT NULL,
    roster TEXT NOT NULL,
    frozen_at TEXT NOT NULL,
    frozen_by TEXT NOT NULL,
    submitted_at TEXT,
    filler TEXT,
    reviewer TEXT,
    head TEXT,
    decided_at TEXT,
    decided_by TEXT,
    comment TEXT,
    -- The education bureau's and the police's checks of their sections (JSON), before approval.
    education_check TEXT,
    police_check TEXT,
    version BIGINT NOT NULL
);
CREATE UNIQUE INDEX quarterly_reports_unit ON quarterly_reports (region_code, quarter);
CREATE INDEX quarterly_reports_quarter ON quarterly_reports (quarter, region_code);

CREATE TABLE quarterly_report_events (
    id TEXT PRIMARY KEY,
    report_id TEXT NOT NULL REFERENCES quarterly_reports (id),
    at TEXT NOT NULL,
    username TEXT NOT NULL,
    kind TEXT NOT NULL,
    note TEXT NOT NULL
);
CREATE INDEX quarterly_report_events_report ON quarterly_report_events (report_id, at)
