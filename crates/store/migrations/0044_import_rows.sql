-- Issue 26: the import result links to exactly the rows it wrote. Each history entry an import
-- writes names that import (the job's id); the roster filters by it.
ALTER TABLE child_history ADD COLUMN import_id TEXT;
CREATE INDEX child_history_import ON child_history (import_id) WHERE import_id IS NOT NULL;
