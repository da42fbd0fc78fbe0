-- Issue 27: the register of 农村留守老人 (龙里 003 二, 五(一)1; 附件6 花名册, 附件7 基本情况登记表) as its
-- own capability. The record is sealed for its row (`elders.doc`, like a child's file); the row
-- keeps what the register filters, sorts and counts on: where, the name, the birth date, with whom
-- the elder lives, whether the record is complete, whether the elder is watched (独居 or unable to
-- care for themselves), and the ID number's blind index and mask.
CREATE TABLE elders (
    id TEXT PRIMARY KEY,
    village_code BIGINT NOT NULL,
    name TEXT COLLATE "C" NOT NULL,
    name_pinyin TEXT COLLATE "C" NOT NULL,
    sex TEXT NOT NULL,
    birth_date TEXT COLLATE "C" NOT NULL,
    id_hash TEXT,
    id_masked TEXT,
    living_with TEXT NOT NULL,
    incomplete BIGINT NOT NULL,
    watched BIGINT NOT NULL,
    status TEXT NOT NULL,
    doc TEXT NOT NULL,
    version BIGINT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX elders_area ON elders (village_code, name, id);
CREATE INDEX elders_pinyin ON elders (name_pinyin, village_code);
CREATE INDEX elders_id_hash ON elders (id_hash);
CREATE TABLE elder_history (
    id TEXT PRIMARY KEY,
    elder_id TEXT NOT NULL REFERENCES elders (id),
    version BIGINT NOT NULL,
    at TEXT NOT NULL,
    user_id TEXT NOT NULL,
    username TEXT NOT NULL,
    kind TEXT NOT NULL,
    changes TEXT NOT NULL
);
CREATE INDEX elder_history_elder ON elder_history (elder_id, version);
