-- A county's own settings (issue 14, 15): visiting cadence by risk, report deadlines, the parents'
-- contact lapse and the agreement term — one JSON body per county; absent = the defaults.
CREATE TABLE county_settings (
    county_code TEXT COLLATE "C" PRIMARY KEY REFERENCES regions (code),
    body TEXT NOT NULL,
    updated_by TEXT NOT NULL,
    updated_at TEXT NOT NULL
)
