-- Retention at 7M children (issue 14): archiving asked every file whether it had left the roster
-- (a scan of the whole table inside the write that archives: on SQLite every other write waited
-- for it, 36 s on PostgreSQL), and erasing asked every archived file. The files still to archive
-- are the exits not yet archived — few, their own index — and the active files of children
-- already 16 (the aged files' index, 0038); the files to erase are found by the day they left.
CREATE INDEX children_open_exits ON children (exit_date) WHERE status = 'exited' AND archived_at IS NULL
--;
CREATE INDEX children_to_erase_exit ON children (exit_date) WHERE archived_at IS NOT NULL AND erased_at IS NULL
--;
CREATE INDEX children_to_erase_birth ON children (birth_date) WHERE archived_at IS NOT NULL AND erased_at IS NULL
