-- 应报未报 kept (issue 14): a province's home page counted the files that say 单独居住 or 无人监护
-- and have no mandatory report by reading the partial index over the whole province (147 ms on
-- PostgreSQL at 7M). A file now says whether a case was ever opened on the child (`reported`, set
-- by the cases' triggers below: a case is opened on a child, or linked to one later; cases are never
-- deleted), the home page's kept counts (roster_cube, 0023) hold it as one more column, and the
-- partial index of the list holds only the files still unreported.
DROP TRIGGER IF EXISTS children_cube_insert
--;
DROP TRIGGER IF EXISTS children_cube_delete
--;
DROP TRIGGER IF EXISTS children_cube_update_old
--;
DROP TRIGGER IF EXISTS children_cube_update_new
--;
DROP TABLE roster_cube
--;
ALTER TABLE children ADD COLUMN reported BIGINT NOT NULL DEFAULT 0
--;
UPDATE children SET reported = 1 WHERE id IN (SELECT child_id FROM protection_cases WHERE child_id IS NOT NULL)
--;
DROP INDEX children_unreported
--;
CREATE INDEX children_unreported ON children (village_code, updated_at, id) WHERE status = 'active' AND archived_at IS NULL AND (flags & 3) <> 0 AND reported = 0
--;
CREATE TRIGGER cases_mark_reported AFTER INSERT ON protection_cases
WHEN NEW.child_id IS NOT NULL
BEGIN
    UPDATE children SET reported = 1 WHERE id = NEW.child_id AND reported = 0;
END
--;
CREATE TRIGGER cases_mark_reported_link AFTER UPDATE OF child_id ON protection_cases
WHEN NEW.child_id IS NOT NULL
BEGIN
    UPDATE children SET reported = 1 WHERE id = NEW.child_id AND reported = 0;
END
--;
CREATE TABLE roster_cube (
    region TEXT NOT NULL,
    status TEXT NOT NULL,
    qualifies BIGINT NOT NULL,
    incomplete BIGINT NOT NULL,
    guardianship_type TEXT NOT NULL,
    flags BIGINT NOT NULL,
    reported BIGINT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (region, status, qualifies, incomplete, guardianship_type, flags, reported)
) WITHOUT ROWID
--;
INSERT INTO roster_cube (region, status, qualifies, incomplete, guardianship_type, flags, reported, n)
SELECT substr(printf('%012d', c.village_code), 1, l.len), c.status, c.qualifies, c.incomplete, c.guardianship_type, c.flags, c.reported, COUNT(*)
FROM children c, (SELECT 2 AS len UNION ALL SELECT 4 UNION ALL SELECT 6) l
WHERE c.archived_at IS NULL
GROUP BY 1, 2, 3, 4, 5, 6, 7
--;
CREATE TRIGGER children_cube_insert AFTER INSERT ON children
WHEN NEW.archived_at IS NULL
BEGIN
    INSERT INTO roster_cube (region, status, qualifies, incomplete, guardianship_type, flags, reported, n)
    SELECT substr(printf('%012d', NEW.village_code), 1, l.len), NEW.status, NEW.qualifies, NEW.incomplete, NEW.guardianship_type, NEW.flags, NEW.reported, 1
    FROM (SELECT 2 AS len UNION ALL SELECT 4 UNION ALL SELECT 6) l
    WHERE true
    ON CONFLICT (region, status, qualifies, incomplete, guardianship_type, flags, reported) DO UPDATE SET n = n + excluded.n;
END
--;
CREATE TRIGGER children_cube_delete AFTER DELETE ON children
WHEN OLD.archived_at IS NULL
BEGIN
    INSERT INTO roster_cube (region, status, qualifies, incomplete, guardianship_type, flags, reported, n)
    SELECT substr(printf('%012d', OLD.village_code), 1, l.len), OLD.status, OLD.qualifies, OLD.incomplete, OLD.guardianship_type, OLD.flags, OLD.reported, -1
    FROM (SELECT 2 AS len UNION ALL SELECT 4 UNION ALL SELECT 6) l
    WHERE true
    ON CONFLICT (region, status, qualifies, incomplete, guardianship_type, flags, reported) DO UPDATE SET n = n + excluded.n;
END
--;
CREATE TRIGGER children_cube_update_old AFTER UPDATE ON children
WHEN OLD.archived_at IS NULL AND (NEW.status IS NOT OLD.status OR NEW.qualifies IS NOT OLD.qualifies OR NEW.incomplete IS NOT OLD.incomplete OR NEW.guardianship_type IS NOT OLD.guardianship_type OR NEW.flags IS NOT OLD.flags OR NEW.reported IS NOT OLD.reported OR NEW.village_code IS NOT OLD.village_code OR NEW.archived_at IS NOT OLD.archived_at)
BEGIN
    INSERT INTO roster_cube (region, status, qualifies, incomplete, guardianship_type, flags, reported, n)
    SELECT substr(printf('%012d', OLD.village_code), 1, l.len), OLD.status, OLD.qualifies, OLD.incomplete, OLD.guardianship_type, OLD.flags, OLD.reported, -1
    FROM (SELECT 2 AS len UNION ALL SELECT 4 UNION ALL SELECT 6) l
    WHERE true
    ON CONFLICT (region, status, qualifies, incomplete, guardianship_type, flags, reported) DO UPDATE SET n = n + excluded.n;
END
--;
CREATE TRIGGER children_cube_update_new AFTER UPDATE ON children
WHEN NEW.archived_at IS NULL AND (NEW.status IS NOT OLD.status OR NEW.qualifies IS NOT OLD.qualifies OR NEW.incomplete IS NOT OLD.incomplete OR NEW.guardianship_type IS NOT OLD.guardianship_type OR NEW.flags IS NOT OLD.flags OR NEW.reported IS NOT OLD.reported OR NEW.village_code IS NOT OLD.village_code OR NEW.archived_at IS NOT OLD.archived_at)
BEGIN
    INSERT INTO roster_cube (region, status, qualifies, incomplete, guardianship_type, flags, reported, n)
    SELECT substr(printf('%012d', NEW.village_code), 1, l.len), NEW.status, NEW.qualifies, NEW.incomplete, NEW.guardianship_type, NEW.flags, NEW.reported, 1
    FROM (SELECT 2 AS len UNION ALL SELECT 4 UNION ALL SELECT 6) l
    WHERE true
    ON CONFLICT (region, status, qualifies, incomplete, guardianship_type, flags, reported) DO UPDATE SET n = n + excluded.n;
END
