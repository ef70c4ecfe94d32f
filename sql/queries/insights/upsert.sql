-- Save the registered frame `incoming_actions` (same id = same action: replaced).
insert or replace into ops.actions by name select * from incoming_actions;
