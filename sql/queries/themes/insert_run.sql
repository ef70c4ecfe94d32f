-- One row per theme-stage run.
insert or replace into enrich.theme_runs (
    theme_run_id, model_version, refitted, started_at, finished_at, clauses, themed, outlier_share,
    n_themes, new_themes, retired_themes, kept_themes, taxonomy_hash, details
)
values (
    $theme_run_id, $model_version, $refitted, $started_at, $finished_at, $clauses, $themed,
    $outlier_share, $n_themes, $new_themes, $retired_themes, $kept_themes, $taxonomy_hash, $details
)
