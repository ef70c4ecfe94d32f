-- Store validated labels from the registered relation `incoming_labels` (latest label wins).
insert or replace into enrich.sentiment_labels
    (feedback_id, label5, reviewer, source_file, source_row, import_batch, labelled_at)
select feedback_id, label5, reviewer, source_file, source_row, import_batch, labelled_at
from incoming_labels
