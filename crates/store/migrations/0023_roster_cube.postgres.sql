-- The home page's counts kept as the files change: see 0023_roster_cube.sqlite.sql. Per statement
-- over the transition tables, netted and in key order, as the roll-up of 0022.
CREATE TABLE roster_cube (
    region TEXT COLLATE "C" NOT NULL,
    status TEXT COLLATE "C" NOT NULL,
    qualifies BIGINT NOT NULL,
    incomplete BIGINT NOT NULL,
    guardianship_type TEXT COLLATE "C" NOT NULL,
    flags BIGINT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (region, status, qualifies, incomplete, guardianship_type, flags)
)
--;
CREATE INDEX children_active_birth ON children (birth_date, village_code, status, archived_at, qualifies, incomplete, guardianship_type, flags) WHERE status = 'active' AND archived_at IS NULL
--;
CREATE FUNCTION children_cube_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO roster_cube (region, status, qualifies, incomplete, guardianship_type, flags, n)
    SELECT substr(lpad(x.village_code::text, 12, '0'), 1, l.len), x.status, x.qualifies, x.incomplete, x.guardianship_type, x.flags, SUM(x.d)
    FROM (SELECT village_code, status, qualifies, incomplete, guardianship_type, flags, 1 AS d FROM new_rows WHERE archived_at IS NULL) AS x, (VALUES (2), (4), (6)) AS l(len)
    GROUP BY 1, 2, 3, 4, 5, 6
    HAVING SUM(x.d) <> 0
    ORDER BY 1, 2, 3, 4, 5, 6
    ON CONFLICT (region, status, qualifies, incomplete, guardianship_type, flags) DO UPDATE SET n = roster_cube.n + excluded.n;
    RETURN NULL;
END
$$
--;
CREATE FUNCTION children_cube_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO roster_cube (region, status, qualifies, incomplete, guardianship_type, flags, n)
    SELECT substr(lpad(x.village_code::text, 12, '0'), 1, l.len), x.status, x.qualifies, x.incomplete, x.guardianship_type, x.flags, SUM(x.d)
    FROM (SELECT village_code, status, qualifies, incomplete, guardianship_type, flags, -1 AS d FROM old_rows WHERE archived_at IS NULL) AS x, (VALUES (2), (4), (6)) AS l(len)
    GROUP BY 1, 2, 3, 4, 5, 6
    HAVING SUM(x.d) <> 0
    ORDER BY 1, 2, 3, 4, 5, 6
    ON CONFLICT (region, status, qualifies, incomplete, guardianship_type, flags) DO UPDATE SET n = roster_cube.n + excluded.n;
    RETURN NULL;
END
$$
--;
CREATE FUNCTION children_cube_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO roster_cube (region, status, qualifies, incomplete, guardianship_type, flags, n)
    SELECT substr(lpad(x.village_code::text, 12, '0'), 1, l.len), x.status, x.qualifies, x.incomplete, x.guardianship_type, x.flags, SUM(x.d)
    FROM (SELECT village_code, status, qualifies, incomplete, guardianship_type, flags, -1 AS d FROM old_rows WHERE archived_at IS NULL
          UNION ALL SELECT village_code, status, qualifies, incomplete, guardianship_type, flags, 1 AS d FROM new_rows WHERE archived_at IS NULL) AS x, (VALUES (2), (4), (6)) AS l(len)
    GROUP BY 1, 2, 3, 4, 5, 6
    HAVING SUM(x.d) <> 0
    ORDER BY 1, 2, 3, 4, 5, 6
    ON CONFLICT (region, status, qualifies, incomplete, guardianship_type, flags) DO UPDATE SET n = roster_cube.n + excluded.n;
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
INSERT INTO roster_cube (region, status, qualifies, incomplete, guardianship_type, flags, n)
SELECT substr(lpad(c.village_code::text, 12, '0'), 1, l.len), c.status, c.qualifies, c.incomplete, c.guardianship_type, c.flags, COUNT(*)
FROM children c, (VALUES (2), (4), (6)) AS l(len)
WHERE c.archived_at IS NULL
GROUP BY 1, 2, 3, 4, 5, 6
