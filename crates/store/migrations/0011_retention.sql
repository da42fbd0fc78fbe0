-- Retention (个人信息保护法 Art. 19, 47): a file that left the roster is archived after a period
-- (out of every working list) and its personal fields are erased after a longer one.
ALTER TABLE children ADD COLUMN archived_at TEXT;
ALTER TABLE children ADD COLUMN erased_at TEXT;
-- Every working list now also asks "not archived": the covering index keeps counting on the index.
DROP INDEX children_roster;
CREATE INDEX children_roster ON children (village_code, name, id, status, qualifies, incomplete, birth_date, guardianship_type, schooling, flags, archived_at);
CREATE INDEX children_retention ON children (archived_at, erased_at, status, exit_date)
