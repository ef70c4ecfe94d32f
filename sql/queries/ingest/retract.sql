-- Entered-in-error responses never happened: drop their records (history keeps what was loaded).
delete from raw.feedback
where source = $source and response_id in (select response_id from incoming_retracted);
