-- A 劝返 the county opens from 三方比对 (a child of school age missing from the student list) has
-- no school yet: the town and village organise it (龙里 003 五(三)2).
ALTER TABLE return_tasks ALTER COLUMN agency_id DROP NOT NULL;
ALTER TABLE return_tasks ADD COLUMN source TEXT;
