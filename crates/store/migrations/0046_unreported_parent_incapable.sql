-- Issue 27: 应报未报 includes 父母一方外出另一方无监护能力. The village reports "父母一方外出另一方无监护
-- 能力或无人监护的农村留守儿童等重点对象" to the police at any time (沈阳 002 一4; 龙里 003 五(二)3), not
-- only 单独居住 and 无人监护: the list's partial index holds the 父或母无监护能力 bit (4) as well.
DROP INDEX children_unreported;
CREATE INDEX children_unreported ON children (village_code, updated_at, id) WHERE status = 'active' AND archived_at IS NULL AND (flags & 7) <> 0 AND reported = 0;
