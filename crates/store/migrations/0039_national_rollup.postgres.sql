-- The whole country kept as one more area of the roll-up: see 0039_national_rollup.sqlite.sql.
-- The functions are replaced with the fourth level; the triggers call them by name.
CREATE OR REPLACE FUNCTION children_rollup_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO roster_rollup (region, bucket, sex, cells, n)
    SELECT substr(lpad(x.village_code::text, 12, '0'), 1, l.len), substr(x.birth_date, 1, b.len),
           x.sex, x.summary_cells, SUM(x.d)
    FROM (SELECT village_code, birth_date, sex, summary_cells, 1 AS d FROM new_rows WHERE status = 'active' AND qualifies = 1 AND archived_at IS NULL) AS x, (VALUES (0), (2), (4), (6)) AS l(len), (VALUES (4), (7), (10)) AS b(len)
    GROUP BY 1, 2, 3, 4
    HAVING SUM(x.d) <> 0
    ORDER BY 1, 2, 3, 4
    ON CONFLICT (region, bucket, sex, cells) DO UPDATE SET n = roster_rollup.n + excluded.n;
    RETURN NULL;
END
$$
--;
CREATE OR REPLACE FUNCTION children_rollup_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO roster_rollup (region, bucket, sex, cells, n)
    SELECT substr(lpad(x.village_code::text, 12, '0'), 1, l.len), substr(x.birth_date, 1, b.len),
           x.sex, x.summary_cells, SUM(x.d)
    FROM (SELECT village_code, birth_date, sex, summary_cells, -1 AS d FROM old_rows WHERE status = 'active' AND qualifies = 1 AND archived_at IS NULL) AS x, (VALUES (0), (2), (4), (6)) AS l(len), (VALUES (4), (7), (10)) AS b(len)
    GROUP BY 1, 2, 3, 4
    HAVING SUM(x.d) <> 0
    ORDER BY 1, 2, 3, 4
    ON CONFLICT (region, bucket, sex, cells) DO UPDATE SET n = roster_rollup.n + excluded.n;
    RETURN NULL;
END
$$
--;
CREATE OR REPLACE FUNCTION children_rollup_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO roster_rollup (region, bucket, sex, cells, n)
    SELECT substr(lpad(x.village_code::text, 12, '0'), 1, l.len), substr(x.birth_date, 1, b.len),
           x.sex, x.summary_cells, SUM(x.d)
    FROM (SELECT village_code, birth_date, sex, summary_cells, -1 AS d FROM old_rows WHERE status = 'active' AND qualifies = 1 AND archived_at IS NULL
          UNION ALL SELECT village_code, birth_date, sex, summary_cells, 1 AS d FROM new_rows WHERE status = 'active' AND qualifies = 1 AND archived_at IS NULL) AS x, (VALUES (0), (2), (4), (6)) AS l(len), (VALUES (4), (7), (10)) AS b(len)
    GROUP BY 1, 2, 3, 4
    HAVING SUM(x.d) <> 0
    ORDER BY 1, 2, 3, 4
    ON CONFLICT (region, bucket, sex, cells) DO UPDATE SET n = roster_rollup.n + excluded.n;
    RETURN NULL;
END
$$
--;
INSERT INTO roster_rollup (region, bucket, sex, cells, n)
SELECT '', bucket, sex, cells, SUM(n) FROM roster_rollup WHERE length(region) = 2
GROUP BY bucket, sex, cells HAVING SUM(n) <> 0
