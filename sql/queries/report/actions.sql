-- You said, we did: every recorded action with its measured effect.
select * from reporting.rpt_actions;
