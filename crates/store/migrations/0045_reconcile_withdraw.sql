-- Issue 26: the county withdraws a comparison run (a wrong list, the wrong county's file): its
-- items still waiting for a decision are withdrawn with it; those decided keep what they did.
ALTER TABLE reconcile_runs ADD COLUMN withdrawn_at TEXT;
ALTER TABLE reconcile_runs ADD COLUMN withdrawn_by TEXT;
ALTER TABLE reconcile_runs ADD COLUMN withdraw_reason TEXT;
