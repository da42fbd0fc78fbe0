-- Issue 26: three signatures are three people. A submitted report waits for its 复核人 and
-- 单位负责人 to confirm in the system (each a user of the unit other than the filer), or for the
-- signed and stamped page to be uploaded (sealed for its report, like an agreement's scan).
ALTER TABLE quarterly_reports ADD COLUMN filer_user_id TEXT;
ALTER TABLE quarterly_reports ADD COLUMN signatures TEXT NOT NULL DEFAULT '{}';
ALTER TABLE quarterly_reports ADD COLUMN signed_scan_kind TEXT;
ALTER TABLE quarterly_reports ADD COLUMN signed_scan_size BIGINT;
ALTER TABLE quarterly_reports ADD COLUMN signed_scan TEXT;
