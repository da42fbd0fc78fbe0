-- Issue 27's populations: see 0047_populations.sqlite.sql. The cube's functions are replaced, its
-- table made again with the column and filled in one pass.
DROP TRIGGER IF EXISTS children_cube_insert ON children
--;
DROP TRIGGER IF EXISTS children_cube_delete ON children
--;
DROP TRIGGER IF EXISTS children_cube_update ON children
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
    region TEXT COLLATE "C" NOT NULL,
    status TEXT COLLATE "C" NOT NULL,
    qualifies BIGINT NOT NULL,
    incomplete BIGINT NOT NULL,
    guardianship_type TEXT COLLATE "C" NOT NULL,
    flags BIGINT NOT NULL,
    reported BIGINT NOT NULL,
    populations BIGINT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (region, status, qualifies, incomplete, guardianship_type, flags, reported, populations)
)
--;
CREATE OR REPLACE FUNCTION children_cube_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO roster_cube (region, status, qualifies, incomplete, guardianship_type, flags, reported, populations, n)
    SELECT substr(lpad(x.village_code::text, 12, '0'), 1, l.len), x.status, x.qualifies, x.incomplete, x.guardianship_type, x.flags, x.reported, x.populations, SUM(x.d)
    FROM (SELECT village_code, status, qualifies, incomplete, guardianship_type, flags, reported, populations, 1 AS d FROM new_rows WHERE archived_at IS NULL) AS x, (VALUES (2), (4), (6)) AS l(len)
    GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
    HAVING SUM(x.d) <> 0
    ORDER BY 1, 2, 3, 4, 5, 6, 7, 8
    ON CONFLICT (region, status, qualifies, incomplete, guardianship_type, flags, reported, populations) DO UPDATE SET n = roster_cube.n + excluded.n;
    RETURN NULL;
END
$$
--;
CREATE OR REPLACE FUNCTION children_cube_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO roster_cube (region, status, qualifies, incomplete, guardianship_type, flags, reported, populations, n)
    SELECT substr(lpad(x.village_code::text, 12, '0'), 1, l.len), x.status, x.qualifies, x.incomplete, x.guardianship_type, x.flags, x.reported, x.populations, SUM(x.d)
    FROM (SELECT village_code, status, qualifies, incomplete, guardianship_type, flags, reported, populations, -1 AS d FROM old_rows WHERE archived_at IS NULL) AS x, (VALUES (2), (4), (6)) AS l(len)
    GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
    HAVING SUM(x.d) <> 0
    ORDER BY 1, 2, 3, 4, 5, 6, 7, 8
    ON CONFLICT (region, status, qualifies, incomplete, guardianship_type, flags, reported, populations) DO UPDATE SET n = roster_cube.n + excluded.n;
    RETURN NULL;
END
$$
--;
CREATE OR REPLACE FUNCTION children_cube_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO roster_cube (region, status, qualifies, incomplete, guardianship_type, flags, reported, populations, n)
    SELECT substr(lpad(x.village_code::text, 12, '0'), 1, l.len), x.status, x.qualifies, x.incomplete, x.guardianship_type, x.flags, x.reported, x.populations, SUM(x.d)
    FROM (SELECT village_code, status, qualifies, incomplete, guardianship_type, flags, reported, populations, -1 AS d FROM old_rows WHERE archived_at IS NULL
          UNION ALL SELECT village_code, status, qualifies, incomplete, guardianship_type, flags, reported, populations, 1 AS d FROM new_rows WHERE archived_at IS NULL) AS x, (VALUES (2), (4), (6)) AS l(len)
    GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
    HAVING SUM(x.d) <> 0
    ORDER BY 1, 2, 3, 4, 5, 6, 7, 8
    ON CONFLICT (region, status, qualifies, incomplete, guardianship_type, flags, reported, populations) DO UPDATE SET n = roster_cube.n + excluded.n;
    RETURN NULL;
END
$$
--;
CREATE TRIGGER children_cube_insert AFTER INSERT ON children
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION children_cube_insert()
--;
CREATE TRIGGER children_cube_delete AFTER DELETE ON children
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION children_cube_delete()
--;
CREATE TRIGGER children_cube_update AFTER UPDATE ON children
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION children_cube_update()
--;
INSERT INTO roster_cube (region, status, qualifies, incomplete, guardianship_type, flags, reported, populations, n)
SELECT substr(lpad(c.village_code::text, 12, '0'), 1, l.len), c.status, c.qualifies, c.incomplete, c.guardianship_type, c.flags, c.reported, c.populations, COUNT(*)
FROM children c, (VALUES (2), (4), (6)) AS l(len)
WHERE c.archived_at IS NULL
GROUP BY 1, 2, 3, 4, 5, 6, 7, 8
