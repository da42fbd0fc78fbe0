-- The retention index covered every file (its archived_at NULL for almost all), so SQLite's
-- planner chose it for every list's "archived_at IS NULL" and scanned the whole table (a town's
-- roster page took 300 ms at a million children instead of 2 ms). It serves only the archive, so
-- it now holds only archived files.
DROP INDEX children_retention;
CREATE INDEX children_retention ON children (archived_at, erased_at, status, exit_date) WHERE archived_at IS NOT NULL;
-- The roster's covering index also carries sex and the 汇总表's cells: an area's table is counted on the
-- index alone.
DROP INDEX children_roster;
CREATE INDEX children_roster ON children (village_code, name, id, status, qualifies, incomplete, birth_date, guardianship_type, schooling, flags, archived_at, sex, summary_cells)
