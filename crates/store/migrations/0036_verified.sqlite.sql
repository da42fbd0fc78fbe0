-- 每季度核查 kept as the visits arrive (issue 14: the 定期通报 ranking of a province read every
-- child of the province to ask whether it had a visit this quarter: 0.4 s). `verified` holds each
-- child once per quarter it was visited or called (the village where it lived then), and
-- `verification_rollup` how many per area (2, 4, 6, 9 and 12 digits) and quarter. Kept by
-- triggers on the visits, so no write path can forget them.
CREATE TABLE verified (
    child_id TEXT NOT NULL,
    quarter TEXT NOT NULL,
    village_code BIGINT NOT NULL,
    PRIMARY KEY (child_id, quarter)
) WITHOUT ROWID
--;
CREATE TABLE verification_rollup (
    region TEXT NOT NULL,
    quarter TEXT NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (region, quarter)
) WITHOUT ROWID
--;
INSERT INTO verified (child_id, quarter, village_code)
SELECT v.child_id, substr(v.visited_on, 1, 4) || 'Q' || ((CAST(substr(v.visited_on, 6, 2) AS INTEGER) + 2) / 3),
       MIN(c.village_code)
FROM visits v JOIN children c ON c.id = v.child_id
GROUP BY 1, 2
--;
INSERT INTO verification_rollup (region, quarter, n)
SELECT substr(printf('%012d', x.village_code), 1, l.len), x.quarter, COUNT(*)
FROM verified x, (SELECT 2 AS len UNION ALL SELECT 4 UNION ALL SELECT 6 UNION ALL SELECT 9 UNION ALL SELECT 12) l
GROUP BY 1, 2
--;
CREATE TRIGGER visits_verified AFTER INSERT ON visits
BEGIN
    INSERT INTO verified (child_id, quarter, village_code)
    SELECT NEW.child_id, substr(NEW.visited_on, 1, 4) || 'Q' || ((CAST(substr(NEW.visited_on, 6, 2) AS INTEGER) + 2) / 3),
           c.village_code
    FROM children c WHERE c.id = NEW.child_id
    ON CONFLICT (child_id, quarter) DO NOTHING;
END
--;
CREATE TRIGGER verified_rollup AFTER INSERT ON verified
BEGIN
    INSERT INTO verification_rollup (region, quarter, n)
    SELECT substr(printf('%012d', NEW.village_code), 1, l.len), NEW.quarter, 1
    FROM (SELECT 2 AS len UNION ALL SELECT 4 UNION ALL SELECT 6 UNION ALL SELECT 9 UNION ALL SELECT 12) l
    WHERE true
    ON CONFLICT (region, quarter) DO UPDATE SET n = n + 1;
END
