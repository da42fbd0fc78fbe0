-- The 汇总表 kept counted as the files change: see 0022_roster_rollup.sqlite.sql for the table.
-- On PostgreSQL the triggers are per statement over the transition tables: a statement's changes
-- are netted (an edit that moves no count writes nothing) and applied in key order, so two
-- transactions writing many files lock the shared rows in the same order and never deadlock.
CREATE TABLE roster_rollup (
    region TEXT COLLATE "C" NOT NULL,
    bucket TEXT COLLATE "C" NOT NULL,
    sex TEXT COLLATE "C" NOT NULL,
    cells TEXT COLLATE "C" NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (region, bucket, sex, cells)
)
--;
CREATE FUNCTION children_rollup_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO roster_rollup (region, bucket, sex, cells, n)
    SELECT substr(lpad(x.village_code::text, 12, '0'), 1, l.len), substr(x.birth_date, 1, b.len),
           x.sex, x.summary_cells, SUM(x.d)
    FROM (SELECT village_code, birth_date, sex, summary_cells, 1 AS d FROM new_rows WHERE status = 'active' AND qualifies = 1 AND archived_at IS NULL) AS x, (VALUES (2), (4), (6)) AS l(len), (VALUES (4), (7), (10)) AS b(len)
    GROUP BY 1, 2, 3, 4
    HAVING SUM(x.d) <> 0
    ORDER BY 1, 2, 3, 4
    ON CONFLICT (region, bucket, sex, cells) DO UPDATE SET n = roster_rollup.n + excluded.n;
    RETURN NULL;
END
$$
--;
CREATE FUNCTION children_rollup_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO roster_rollup (region, bucket, sex, cells, n)
    SELECT substr(lpad(x.village_code::text, 12, '0'), 1, l.len), substr(x.birth_date, 1, b.len),
           x.sex, x.summary_cells, SUM(x.d)
    FROM (SELECT village_code, birth_date, sex, summary_cells, -1 AS d FROM old_rows WHERE status = 'active' AND qualifies = 1 AND archived_at IS NULL) AS x, (VALUES (2), (4), (6)) AS l(len), (VALUES (4), (7), (10)) AS b(len)
    GROUP BY 1, 2, 3, 4
    HAVING SUM(x.d) <> 0
    ORDER BY 1, 2, 3, 4
    ON CONFLICT (region, bucket, sex, cells) DO UPDATE SET n = roster_rollup.n + excluded.n;
    RETURN NULL;
END
$$
--;
CREATE FUNCTION children_rollup_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO roster_rollup (region, bucket, sex, cells, n)
    SELECT substr(lpad(x.village_code::text, 12, '0'), 1, l.len), substr(x.birth_date, 1, b.len),
           x.sex, x.summary_cells, SUM(x.d)
    FROM (SELECT village_code, birth_date, sex, summary_cells, -1 AS d FROM old_rows WHERE status = 'active' AND qualifies = 1 AND archived_at IS NULL
          UNION ALL SELECT village_code, birth_date, sex, summary_cells, 1 AS d FROM new_rows WHERE status = 'active' AND qualifies = 1 AND archived_at IS NULL) AS x, (VALUES (2), (4), (6)) AS l(len), (VALUES (4), (7), (10)) AS b(len)
    GROUP BY 1, 2, 3, 4
    HAVING SUM(x.d) <> 0
    ORDER BY 1, 2, 3, 4
    ON CONFLICT (region, bucket, sex, cells) DO UPDATE SET n = roster_rollup.n + excluded.n;
    RETURN NULL;
END
$$
--;
CREATE TRIGGER children_rollup_insert AFTER INSERT ON children
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION children_rollup_insert()
--;
CREATE TRIGGER children_rollup_delete AFTER DELETE ON children
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION children_rollup_delete()
--;
CREATE TRIGGER children_rollup_update AFTER UPDATE ON children
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION children_rollup_update()
--;
INSERT INTO roster_rollup (region, bucket, sex, cells, n)
SELECT substr(lpad(c.village_code::text, 12, '0'), 1, l.len), substr(c.birth_date, 1, b.len), c.sex, c.summary_cells, COUNT(*)
FROM children c, (VALUES (2), (4), (6)) AS l(len), (VALUES (4), (7), (10)) AS b(len)
WHERE c.status = 'active' AND c.qualifies = 1 AND c.archived_at IS NULL
GROUP BY 1, 2, 3, 4
