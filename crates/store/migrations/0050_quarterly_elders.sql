-- Issue 27: a town's quarterly report keeps its 留守老人花名册 (龙里 003 七(二): 附件6、附件7 go into
-- each quarter's report), sealed for the report like the children's roster it froze.
ALTER TABLE quarterly_reports ADD COLUMN elders TEXT;
