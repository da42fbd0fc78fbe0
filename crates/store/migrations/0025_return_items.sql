-- A returned quarterly report's comments per item (a column of the 汇总表 or a unit's row), as
-- JSON: [{"item": "26", "comment": "…"}]; empty once approved.
ALTER TABLE quarterly_reports ADD COLUMN return_items TEXT NOT NULL DEFAULT '[]';
