-- Segment lift of the latest insights run: significant comparisons first (the trend pack shows
-- the significant ones, or the strongest lifts when none is).
select * from reporting.rpt_segment_lift limit $max_rows;
