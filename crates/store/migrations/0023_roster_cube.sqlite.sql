-- The home page's counts kept as the files change (issue 14): per area (province, prefecture,
-- county) and the columns those counts test — status, qualifies, incomplete, guardianship type,
-- flags — how many files not archived there are. Age is not kept: the few active files of children
-- already 16 are read from their own partial index and moved to 已满16周岁 (store::roster).
CREATE TABLE roster_cube (
    region TEXT NOT NULL,
    status TEXT NOT NULL,
    qualifies BIGINT NOT NULL,
    incomplete BIGINT NOT NULL,
    guardianship_type TEXT NOT NULL,
    flags BIGINT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (region, status, qualifies, incomplete, guardianship_type, flags)
) WITHOUT ROWID
--;
CREATE INDEX children_active_birth ON children (birth_date, village_code, status, archived_at, qualifies, incomplete, guardianship_type, flags) WHERE status = 'active' AND archived_at IS NULL
--;
INSERT INTO roster_cube (region, status, qualifies, incomplete, guardianship_type, flags, n)
SELECT substr(printf('%012d', c.village_code), 1, l.len), c.status, c.qualifies, c.incomplete, c.guardianship_type, c.flags, COUNT(*)
FROM children c, (SELECT 2 AS len UNION ALL SELECT 4 UNION ALL SELECT 6) l
WHERE c.archived_at IS NULL
GROUP BY 1, 2, 3, 4, 5, 6
--;
CREATE TRIGGER children_cube_insert AFTER INSERT ON children
WHEN NEW.archived_at IS NULL
BEGIN
    INSERT INTO roster_cube (region, status, qualifies, incomplete, guardianship_type, flags, n)
    SELECT substr(printf('%012d', NEW.village_code), 1, l.len), NEW.status, NEW.qualifies, NEW.incomplete, NEW.guardianship_type, NEW.flags, 1
    FROM (SELECT 2 AS len UNION ALL SELECT 4 UNION ALL SELECT 6) l
    WHERE true
    ON CONFLICT (region, status, qualifies, incomplete, guardianship_type, flags) DO UPDATE SET n = n + excluded.n;
END
--;
CREATE TRIGGER children_cube_delete AFTER DELETE ON children
WHEN OLD.archived_at IS NULL
BEGIN
    INSERT INTO roster_cube (region, status, qualifies, incomplete, guardianship_type, flags, n)
    SELECT substr(printf('%012d', OLD.village_code), 1, l.len), OLD.status, OLD.qualifies, OLD.incomplete, OLD.guardianship_type, OLD.flags, -1
    FROM (SELECT 2 AS len UNION ALL SELECT 4 UNION ALL SELECT 6) l
    WHERE true
    ON CONFLICT (region, status, qualifies, incomplete, guardianship_type, flags) DO UPDATE SET n = n + excluded.n;
END
--;
CREATE TRIGGER children_cube_update_old AFTER UPDATE ON children
WHEN OLD.archived_at IS NULL AND (NEW.status IS NOT OLD.status OR NEW.qualifies IS NOT OLD.qualifies OR NEW.incomplete IS NOT OLD.incomplete OR NEW.guardianship_type IS NOT OLD.guardianship_type OR NEW.flags IS NOT OLD.flags OR NEW.village_code IS NOT OLD.village_code OR NEW.archived_at IS NOT OLD.archived_at)
BEGIN
    INSERT INTO roster_cube (region, status, qualifies, incomplete, guardianship_type, flags, n)
    SELECT substr(printf('%012d', OLD.village_code), 1, l.len), OLD.status, OLD.qualifies, OLD.incomplete, OLD.guardianship_type, OLD.flags, -1
    FROM (SELECT 2 AS len UNION ALL SELECT 4 UNION ALL SELECT 6) l
    WHERE true
    ON CONFLICT (region, status, qualifies, incomplete, guardianship_type, flags) DO UPDATE SET n = n + excluded.n;
END
--;
CREATE TRIGGER children_cube_update_new AFTER UPDATE ON children
WHEN NEW.archived_at IS NULL AND (NEW.status IS NOT OLD.status OR NEW.qualifies IS NOT OLD.qualifies OR NEW.incomplete IS NOT OLD.incomplete OR NEW.guardianship_type IS NOT OLD.guardianship_type OR NEW.flags IS NOT OLD.flags OR NEW.village_code IS NOT OLD.village_code OR NEW.archived_at IS NOT OLD.archived_at)
BEGIN
    INSERT INTO roster_cube (region, status, qualifies, incomplete, guardianship_type, flags, n)
    SELECT substr(printf('%012d', NEW.village_code), 1, l.len), NEW.status, NEW.qualifies, NEW.incomplete, NEW.guardianship_type, NEW.flags, 1
    FROM (SELECT 2 AS len UNION ALL SELECT 4 UNION ALL SELECT 6) l
    WHERE true
    ON CONFLICT (region, status, qualifies, incomplete, guardianship_type, flags) DO UPDATE SET n = n + excluded.n;
END
