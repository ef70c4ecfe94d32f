-- Number of stored reviewer labels per 5-point label.
select label5, count(*) as n
from enrich.sentiment_labels
group by label5
order by label5
