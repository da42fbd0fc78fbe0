-- Found at 7M children on PostgreSQL (issue 14). The home counts of a county or more move the
-- active files of children already 16 out of the kept counts; their index led with the birth date,
-- so every county's home page read the aged files of the whole country (67,000 at 7M, 22 ms) to
-- keep its own. The province now leads (a village code is 12 digits: its province is the code
-- divided by 10^10), then the birth date: a county reads its province's few.
DROP INDEX children_active_birth
--;
CREATE INDEX children_active_birth ON children ((village_code / 10000000000), birth_date, village_code, status, archived_at, qualifies, incomplete, guardianship_type, flags) WHERE status = 'active' AND archived_at IS NULL
--;
-- The units of a level inside an area (a province's prefectures, a county's towns) were found by
-- reading every region (160,000 at seven provinces: 25 ms).
CREATE INDEX regions_level_code ON regions (level, code12)
