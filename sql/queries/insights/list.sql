-- Recorded actions, newest first, with the measured verdict when the models are current.
select a.action_id, a.theme_id, t.theme_label, coalesce(a.site, 'All sites') as site,
       coalesce(a.service, 'All services') as service, a.start_date, a.end_date, a.status, a.owner,
       a.description, r.verdict, r.share_before_pct, r.share_after_pct, a.recorded_by, a.recorded_at
from ops.actions as a
left join marts.dim_theme as t using (theme_id)
left join reporting.rpt_actions as r using (action_id)
order by a.start_date desc, a.action_id;
