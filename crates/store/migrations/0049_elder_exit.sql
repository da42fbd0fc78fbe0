-- Issue 27: an elder leaves the register (子女返乡、迁出、去世…) with the reason and the day, as a
-- child leaves the roster; the record stays, read-only, in the 已退出 list.
ALTER TABLE elders ADD COLUMN exit_reason TEXT;
ALTER TABLE elders ADD COLUMN exit_date TEXT;
