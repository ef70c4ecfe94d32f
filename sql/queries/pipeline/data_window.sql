-- The window of feedback the warehouse holds (recorded with every stage run).
select min(received_at), max(received_at), count(*) from raw.feedback;
