-- Reviewers' sentiment labels (`feedback label import`): one current label per comment.
-- Re-importing a comment replaces its label; import_batch and source_file keep provenance.
create table if not exists enrich.sentiment_labels (
    feedback_id    varchar primary key,
    label5         varchar not null,   -- very negative .. very positive
    reviewer       varchar,
    source_file    varchar not null,
    source_row     integer not null,   -- row number in that file (header = row 1)
    import_batch   varchar not null,
    labelled_at    timestamptz not null
);
