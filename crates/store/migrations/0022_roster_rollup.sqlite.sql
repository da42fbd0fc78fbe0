-- The 汇总表 kept counted as the files change (issue 14: every answer for a province as fast as a
-- town's). One row per area (province, prefecture, county: the first 2, 4 or 6 digits of the
-- village code), birth-date bucket (the year "2015", the month "2015-03" or the day "2015-03-14"),
-- sex and 汇总表 cells, holding how many files on the roster (active, meeting the definition, not
-- archived) fall there. Age is the only part of the table that moves with the date asked for; the
-- buckets let any date's age bands be summed from a few hundred rows (store::quarterly::rollup).
-- Kept by triggers, so no write path can forget it.
CREATE TABLE roster_rollup (
    region TEXT NOT NULL,
    bucket TEXT NOT NULL,
    sex TEXT NOT NULL,
    cells TEXT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (region, bucket, sex, cells)
) WITHOUT ROWID
--;
INSERT INTO roster_rollup (region, bucket, sex, cells, n)
SELECT substr(printf('%012d', c.village_code), 1, l.len), substr(c.birth_date, 1, b.len), c.sex, c.summary_cells, COUNT(*)
FROM children c, (SELECT 2 AS len UNION ALL SELECT 4 UNION ALL SELECT 6) l,
     (SELECT 4 AS len UNION ALL SELECT 7 UNION ALL SELECT 10) b
WHERE c.status = 'active' AND c.qualifies = 1 AND c.archived_at IS NULL
GROUP BY 1, 2, 3, 4
--;
CREATE TRIGGER children_rollup_insert AFTER INSERT ON children
WHEN NEW.status = 'active' AND NEW.qualifies = 1 AND NEW.archived_at IS NULL
BEGIN
    INSERT INTO roster_rollup (region, bucket, sex, cells, n)
    SELECT substr(printf('%012d', NEW.village_code), 1, l.len), substr(NEW.birth_date, 1, b.len), NEW.sex, NEW.summary_cells, 1
    FROM (SELECT 2 AS len UNION ALL SELECT 4 UNION ALL SELECT 6) l,
         (SELECT 4 AS len UNION ALL SELECT 7 UNION ALL SELECT 10) b
    WHERE true
    ON CONFLICT (region, bucket, sex, cells) DO UPDATE SET n = n + excluded.n;
END
--;
CREATE TRIGGER children_rollup_delete AFTER DELETE ON children
WHEN OLD.status = 'active' AND OLD.qualifies = 1 AND OLD.archived_at IS NULL
BEGIN
    INSERT INTO roster_rollup (region, bucket, sex, cells, n)
    SELECT substr(printf('%012d', OLD.village_code), 1, l.len), substr(OLD.birth_date, 1, b.len), OLD.sex, OLD.summary_cells, -1
    FROM (SELECT 2 AS len UNION ALL SELECT 4 UNION ALL SELECT 6) l,
         (SELECT 4 AS len UNION ALL SELECT 7 UNION ALL SELECT 10) b
    WHERE true
    ON CONFLICT (region, bucket, sex, cells) DO UPDATE SET n = n + excluded.n;
END
--;
CREATE TRIGGER children_rollup_update_old AFTER UPDATE ON children
WHEN OLD.status = 'active' AND OLD.qualifies = 1 AND OLD.archived_at IS NULL
    AND (NEW.status IS NOT OLD.status OR NEW.qualifies IS NOT OLD.qualifies
         OR NEW.archived_at IS NOT OLD.archived_at OR NEW.village_code IS NOT OLD.village_code
         OR NEW.birth_date IS NOT OLD.birth_date OR NEW.sex IS NOT OLD.sex
         OR NEW.summary_cells IS NOT OLD.summary_cells)
BEGIN
    INSERT INTO roster_rollup (region, bucket, sex, cells, n)
    SELECT substr(printf('%012d', OLD.village_code), 1, l.len), substr(OLD.birth_date, 1, b.len), OLD.sex, OLD.summary_cells, -1
    FROM (SELECT 2 AS len UNION ALL SELECT 4 UNION ALL SELECT 6) l,
         (SELECT 4 AS len UNION ALL SELECT 7 UNION ALL SELECT 10) b
    WHERE true
    ON CONFLICT (region, bucket, sex, cells) DO UPDATE SET n = n + excluded.n;
END
--;
CREATE TRIGGER children_rollup_update_new AFTER UPDATE ON children
WHEN NEW.status = 'active' AND NEW.qualifies = 1 AND NEW.archived_at IS NULL
    AND (NEW.status IS NOT OLD.status OR NEW.qualifies IS NOT OLD.qualifies
         OR NEW.archived_at IS NOT OLD.archived_at OR NEW.village_code IS NOT OLD.village_code
         OR NEW.birth_date IS NOT OLD.birth_date OR NEW.sex IS NOT OLD.sex
         OR NEW.summary_cells IS NOT OLD.summary_cells)
BEGIN
    INSERT INTO roster_rollup (region, bucket, sex, cells, n)
    SELECT substr(printf('%012d', NEW.village_code), 1, l.len), substr(NEW.birth_date, 1, b.len), NEW.sex, NEW.summary_cells, 1
    FROM (SELECT 2 AS len UNION ALL SELECT 4 UNION ALL SELECT 6) l,
         (SELECT 4 AS len UNION ALL SELECT 7 UNION ALL SELECT 10) b
    WHERE true
    ON CONFLICT (region, bucket, sex, cells) DO UPDATE SET n = n + excluded.n;
END
