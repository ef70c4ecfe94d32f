-- Re-scored comments replace all their clauses (a comment may now split differently).
delete from enrich.aspects where feedback_id in (select feedback_id from incoming_sentiment);
insert into enrich.aspects
select feedback_id, clause_idx, clause_text, label3, score, model_version from incoming_aspects;
