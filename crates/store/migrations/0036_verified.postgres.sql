-- 每季度核查 kept as the visits arrive: see 0036_verified.sqlite.sql. Row triggers: a visit is one
-- row, and the five rows of the roll-up it moves are taken in one order (province to village).
CREATE TABLE verified (
    child_id TEXT COLLATE "C" NOT NULL,
    quarter TEXT COLLATE "C" NOT NULL,
    village_code BIGINT NOT NULL,
    PRIMARY KEY (child_id, quarter)
)
--;
CREATE TABLE verification_rollup (
    region TEXT COLLATE "C" NOT NULL,
    quarter TEXT COLLATE "C" NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (region, quarter)
)
--;
INSERT INTO verified (child_id, quarter, village_code)
SELECT v.child_id, substr(v.visited_on, 1, 4) || 'Q' || ((CAST(substr(v.visited_on, 6, 2) AS INTEGER) + 2) / 3),
       MIN(c.village_code)
FROM visits v JOIN children c ON c.id = v.child_id
GROUP BY 1, 2
--;
INSERT INTO verification_rollup (region, quarter, n)
SELECT substr(lpad(x.village_code::text, 12, '0'), 1, l.len), x.quarter, COUNT(*)
FROM verified x, (VALUES (2), (4), (6), (9), (12)) AS l(len)
GROUP BY 1, 2
--;
CREATE FUNCTION visits_verified() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO verified (child_id, quarter, village_code)
    SELECT NEW.child_id, substr(NEW.visited_on, 1, 4) || 'Q' || ((CAST(substr(NEW.visited_on, 6, 2) AS INTEGER) + 2) / 3),
           c.village_code
    FROM children c WHERE c.id = NEW.child_id
    ON CONFLICT (child_id, quarter) DO NOTHING;
    RETURN NULL;
END
$$
--;
CREATE TRIGGER visits_verified AFTER INSERT ON visits FOR EACH ROW EXECUTE FUNCTION visits_verified()
--;
CREATE FUNCTION verified_rollup() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO verification_rollup (region, quarter, n)
    SELECT substr(lpad(NEW.village_code::text, 12, '0'), 1, l.len), NEW.quarter, 1
    FROM (VALUES (2), (4), (6), (9), (12)) AS l(len)
    ORDER BY 1
    ON CONFLICT (region, quarter) DO UPDATE SET n = verification_rollup.n + 1;
    RETURN NULL;
END
$$
--;
CREATE TRIGGER verified_rollup AFTER INSERT ON verified FOR EACH ROW EXECUTE FUNCTION verified_rollup()
