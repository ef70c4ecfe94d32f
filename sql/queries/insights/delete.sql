-- Remove one action by id; returns the id of the deleted row (none when it did not exist).
delete from ops.actions where action_id = $action_id returning action_id;
