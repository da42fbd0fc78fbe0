-- A file whose facts do not decide whether the child is left behind (信息不全): neither on the
-- roster nor "not left behind" until someone fills the gap. Derived from the file, like qualifies.
ALTER TABLE children ADD COLUMN incomplete BIGINT NOT NULL DEFAULT 0;

-- Settings the store keeps for itself, such as the version of the rules the summary columns were
-- derived with (when the rules change, the columns are derived again from the files).
CREATE TABLE store_settings (
    key TEXT COLLATE "C" PRIMARY KEY,
    value TEXT NOT NULL
);

-- The roster's covering index, with the new column (counting a town still reads no rows).
DROP INDEX children_roster;
CREATE INDEX children_roster ON children (village_code, name, id, status, qualifies, incomplete, birth_date, guardianship_type, schooling, flags);
