-- Measured at 7,000,000 children over seven provinces (issue 14): a province user's search by full
-- name took 278 ms — the name index held the name and id only, so every child of that name in the
-- country was read from the table to test its standing — and a registration 118 ms, its duplicate
-- check reading every child born on the ~20 dates near the new child's, country-wide, to keep
-- those of one county. The name index now holds what the roster's standing tests (the search
-- counts and pages on the index alone), in the order the name sort uses (name, village, id); the
-- birth dates get the village beside them.
DROP INDEX children_name;
CREATE INDEX children_name ON children (name, village_code, id, status, qualifies, incomplete, birth_date, archived_at);
CREATE INDEX children_birth_place ON children (birth_date, village_code)
