-- Who visits a child when it is not the village's 儿童主任 (景洪 000 二(二): 驻村干部、网格员、社会工作者、
-- 志愿者…): a named person and their role, per child (issue 15). None = the village's 儿童主任.
CREATE TABLE visit_assignments (
    child_id TEXT PRIMARY KEY REFERENCES children (id),
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    assigned_by TEXT NOT NULL,
    at TEXT NOT NULL
)
