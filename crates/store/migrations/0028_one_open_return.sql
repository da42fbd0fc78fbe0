-- One open 劝返 per pupil: two absence sheets sent at once for the same pupil opened two.
CREATE UNIQUE INDEX return_tasks_one_open ON return_tasks (child_id) WHERE status = 'open';
