-- Reviewers' theme corrections (`feedback themes import`): every imported file is one correction
-- set, numbered 1, 2, ... (set_version), never edited afterwards. The corrections apply to stable
-- theme ids, so they are applied again after every theme run (refit or daily): a later set wins
-- over an earlier one for the same theme or clause.
create table if not exists enrich.theme_correction_sets (
    set_version   integer primary key,  -- 1, 2, ...: the corrections version
    file_name     varchar not null,
    file_sha256   varchar not null,
    reviewer      varchar,
    run_id        varchar not null,     -- the ops.stage_runs row (stage theme_review) that applied it
    applied_at    timestamptz not null,
    counts        varchar               -- json: renames, moves, merges, recodes, new_themes
);

create table if not exists enrich.theme_corrections (
    set_version       integer not null,
    seq               integer not null,  -- order within the set
    kind              varchar not null,  -- rename | move | merge | recode
    theme_id          varchar,           -- rename, move, merge: the theme corrected
    new_label         varchar,           -- rename
    new_category_id   varchar,           -- move; recode: category of a new theme
    new_category_name varchar,
    new_category_group varchar,
    merge_into        varchar,           -- merge: the theme that takes its clauses
    feedback_id       varchar,           -- recode: the clause
    clause_idx        integer,
    clause_text       varchar,           -- recode: redacted clause text (a classifier example)
    new_theme_id      varchar,           -- recode: the theme the clause goes to (a new id for a split)
    sheet             varchar not null,  -- where in the file it came from
    source_row        integer not null,  -- spreadsheet row (header = row 1)
    primary key (set_version, seq)
);

-- A theme merged into another by a reviewer: status 'merged', merged_into names the target.
alter table enrich.themes add column if not exists merged_into varchar;
