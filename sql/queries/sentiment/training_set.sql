-- Organisation labels with their question and redacted text, for `feedback train sentiment`.
select
    l.feedback_id,
    coalesce(f.question, '') as question,
    r.text_redacted as text,
    l.label5
from enrich.sentiment_labels as l
join enrich.redactions as r on r.feedback_id = l.feedback_id
join raw.feedback as f on f.feedback_id = l.feedback_id
where r.text_redacted is not null
order by l.feedback_id
