-- The batch's canonical records as a temp table (dropped with the transaction or connection).
create or replace temp table incoming as select * from incoming_frame;
