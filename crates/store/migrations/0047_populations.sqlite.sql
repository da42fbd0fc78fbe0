-- Issue 27: the populations the plans protect besides 农村留守儿童 — 困境儿童 (国发〔2016〕36号) and
-- 事实无人抚养儿童 (民发〔2019〕62号) — kept as a mask on each file (`populations`, the domain's
-- `population::mask`: bits 1/2/4 the three categories of 困境儿童, 8 事实无人抚养, 16 undecided),
-- derived with the rest of the summary (DERIVATION_VERSION 9 fills it on opening). Each list has
-- its partial index (the masks are literals, as the planner needs), and the home page's kept
-- counts (roster_cube, 0037) hold the mask as one more column.
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
ALTER TABLE children ADD COLUMN populations BIGINT NOT NULL DEFAULT 0
--;
CREATE INDEX children_in_difficulty ON children (village_code, name, id) WHERE (populations & 7) <> 0 AND archived_at IS NULL
--;
CREATE INDEX children_de_facto ON children (village_code, name, id) WHERE (populations & 24) <> 0 AND archived_at IS NULL
--;
CREATE TABLE roster_cube (
    region TEXT NOT NULL,
    status TEXT NOT NULL,
    qualifies BIGINT NOT NULL,
    incomplete BIGINT NOT NULL,
    guardianship_type TEXT NOT NULL,
    flags BIGINT NOT NULL,
    reported BIGINT NOT NULL,
    populations BIGINT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (region, status, qualifies, incomplete, guardianship_type, flags, reported, populations)
) WITHOUT ROWID
--;
INSERT INTO roster_cube (region, status, qualifies, incomplete, guardianship_type, flags, reported, populations, n)
SELECT substr(printf('%012d', c.village_code), 1, l.len), c.status, c.qualifies, c.incomplete, c.guardianship_type, c.flags, c.reported, c.populations, COUNT(*)
FROM children c, (SELECT 2 AS len UNION ALL SELECT 4 UNION ALL SELECT 6) l
WHERE c.archived_at IS NULL
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
--;
CREATE TRIGGER children_cube_insert AFTER INSERT ON children
WHEN NEW.archived_at IS NULL
BEGIN
    INSERT INTO roster_cube (region, status, qualifies, incomplete, guardianship_type, flags, reported, populations, n)
    SELECT substr(printf('%012d', NEW.village_code), 1, l.len), NEW.status, NEW.qualifies, NEW.incomplete, NEW.guardianship_type, NEW.flags, NEW.reported, NEW.populations, 1
    FROM (SELECT 2 AS len UNION ALL SELECT 4 UNION ALL SELECT 6) l
    WHERE true
    ON CONFLICT (region, status, qualifies, incomplete, guardianship_type, flags, reported, populations) DO UPDATE SET n = n + excluded.n;
END
--;
CREATE TRIGGER children_cube_delete AFTER DELETE ON children
WHEN OLD.archived_at IS NULL
BEGIN
    INSERT INTO roster_cube (region, status, qualifies, incomplete, guardianship_type, flags, reported, populations, n)
    SELECT substr(printf('%012d', OLD.village_code), 1, l.len), OLD.status, OLD.qualifies, OLD.incomplete, OLD.guardianship_type, OLD.flags, OLD.reported, OLD.populations, -1
    FROM (SELECT 2 AS len UNION ALL SELECT 4 UNION ALL SELECT 6) l
    WHERE true
    ON CONFLICT (region, status, qualifies, incomplete, guardianship_type, flags, reported, populations) DO UPDATE SET n = n + excluded.n;
END
--;
CREATE TRIGGER children_cube_update_old AFTER UPDATE ON children
WHEN OLD.archived_at IS NULL AND (NEW.status IS NOT OLD.status OR NEW.qualifies IS NOT OLD.qualifies OR NEW.incomplete IS NOT OLD.incomplete OR NEW.guardianship_type IS NOT OLD.guardianship_type OR NEW.flags IS NOT OLD.flags OR NEW.reported IS NOT OLD.reported OR NEW.populations IS NOT OLD.populations OR NEW.village_code IS NOT OLD.village_code OR NEW.archived_at IS NOT OLD.archived_at)
BEGIN
    INSERT INTO roster_cube (region, status, qualifies, incomplete, guardianship_type, flags, reported, populations, n)
    SELECT substr(printf('%012d', OLD.village_code), 1, l.len), OLD.status, OLD.qualifies, OLD.incomplete, OLD.guardianship_type, OLD.flags, OLD.reported, OLD.populations, -1
    FROM (SELECT 2 AS len UNION ALL SELECT 4 UNION ALL SELECT 6) l
    WHERE true
    ON CONFLICT (region, status, qualifies, incomplete, guardianship_type, flags, reported, populations) DO UPDATE SET n = n + excluded.n;
END
--;
CREATE TRIGGER children_cube_update_new AFTER UPDATE ON children
WHEN NEW.archived_at IS NULL AND (NEW.status IS NOT OLD.status OR NEW.qualifies IS NOT OLD.qualifies OR NEW.incomplete IS NOT OLD.incomplete OR NEW.guardianship_type IS NOT OLD.guardianship_type OR NEW.flags IS NOT OLD.flags OR NEW.reported IS NOT OLD.reported OR NEW.populations IS NOT OLD.populations OR NEW.village_code IS NOT OLD.village_code OR NEW.archived_at IS NOT OLD.archived_at)
BEGIN
    INSERT INTO roster_cube (region, status, qualifies, incomplete, guardianship_type, flags, reported, populations, n)
    SELECT substr(printf('%012d', NEW.village_code), 1, l.len), NEW.status, NEW.qualifies, NEW.incomplete, NEW.guardianship_type, NEW.flags, NEW.reported, NEW.populations, 1
    FROM (SELECT 2 AS len UNION ALL SELECT 4 UNION ALL SELECT 6) l
    WHERE true
    ON CONFLICT (region, status, qualifies, incomplete, guardianship_type, flags, reported, populations) DO UPDATE SET n = n + excluded.n;
END
