-- Load the synthetic sample (pipelines/demo/report_sample.py registers the sample_* frames):
-- rows as the ingest, enrich, themes and insights stages would have written them.
insert into raw.feedback by name select * from sample_feedback;
insert into raw.feedback_history by name select * from sample_history;
insert into raw.ingest_batches by name select * from sample_batches;
insert into raw.quarantine by name select * from sample_quarantine;
insert into enrich.redactions by name select * from sample_redactions;
insert into enrich.sentiment by name select * from sample_sentiment;
insert into enrich.aspects by name select * from sample_aspects;
insert into enrich.themes by name select * exclude (centroid) from sample_themes;
insert into enrich.theme_assignments by name select * from sample_assignments;
insert into enrich.insight_runs by name select * from sample_insight_runs;
insert into enrich.theme_alerts by name select * from sample_theme_alerts;
insert into enrich.key_drivers by name select * from sample_key_drivers;
insert into enrich.segment_lift by name select * from sample_segment_lift;
insert into ops.stage_runs by name select * from sample_stage_runs;
insert into ops.actions by name select * from sample_actions;
