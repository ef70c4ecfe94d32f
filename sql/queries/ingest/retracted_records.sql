-- Records of responses the source now marks entered-in-error (FHIR): counted, then removed.
select count(*) from raw.feedback
where source = $source and response_id in (select response_id from incoming_retracted);
