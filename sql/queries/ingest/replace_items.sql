-- Rated items of the incoming responses replace all their previous items.
delete from raw.survey_items
where source = $source
  and response_id in (select response_id from incoming_items_responses);
