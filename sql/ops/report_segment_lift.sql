-- Segment lift of the latest insights run (significant first).
select * from reporting.rpt_segment_lift;
