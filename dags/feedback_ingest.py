"""Ingest every configured feedback source (surveys, suggestion box, complaints).

One mapped task per source YAML in `config/sources/`, named after its source; each pulls only
files it has not ingested before, validates rows with Great Expectations and quarantines bad rows
with a reason. A source that quarantines more than `FEEDBACK_QUARANTINE_MAX` of its rows fails
loudly, without retries (data errors do not go away on a retry).
`start`/`end` (ISO dates, both included) make a backfill: SQL sources pull the rows dated in that
window whatever their watermark (which stays where it was); file sources are skipped with a note.
A SQL source may name an Airflow connection (`connection: feedback_pg` in its YAML) instead of an
environment variable: the task resolves it when it runs.
Updates the `feedback://warehouse/raw` asset (metadata: rows read and loaded per source),
which triggers `feedback_enrich`.
"""

from __future__ import annotations

import pendulum
from _common import (
    DEFAULT_ARGS,
    RAW,
    TAGS,
    TIMEOUTS,
    WINDOW_PARAMS,
    asset_extra,
    call_stage,
    data_window,
    source_urls,
)
from airflow.sdk import dag, task


@dag(
    schedule="0 6 * * *",
    start_date=pendulum.datetime(2026, 1, 1, tz="Europe/London"),
    catchup=False,
    max_active_runs=1,
    max_active_tasks=1,
    tags=[*TAGS, "ingest"],
    default_args=DEFAULT_ARGS,
    params=WINDOW_PARAMS,
    doc_md=__doc__,
)
def feedback_ingest() -> None:  # noqa: D103 - the module docstring is the DAG's doc_md
    @task(execution_timeout=TIMEOUTS["list_sources"])
    def list_sources() -> list[str]:
        from pipelines.config import get_settings
        from pipelines.sources.base import load_source_configs

        return [c.name for c in load_source_configs(get_settings().sources_dir)]

    @task(
        max_active_tis_per_dag=1,
        execution_timeout=TIMEOUTS["ingest_source"],
        map_index_template="{{ task.op_kwargs['source'] }}",
    )
    def ingest_source(source: str, **context) -> dict:
        from pipelines import stages as run
        from pipelines.config import get_settings

        window = data_window(context["params"])
        settings = get_settings()
        settings = settings.with_(source_urls=source_urls(settings, [source]))
        summary = call_stage(run.ingest_stage, settings, context["run_id"], sources=[source], window=window)
        return {"source": source, "rows_in": summary["rows_in"], "rows_out": summary["rows_out"]}

    @task(outlets=[RAW], execution_timeout=TIMEOUTS["build_models"])
    def build_models(results: list[dict], **context) -> int:
        from pipelines import warehouse
        from pipelines.config import get_settings

        results = [results[i] for i in range(len(results))]  # by index: iterating probes one past the end
        start, end = data_window(context["params"])
        summary = {"rows_in": sum(r["rows_in"] for r in results), "rows_out": sum(r["rows_out"] for r in results)}
        context["outlet_events"][RAW].extra = asset_extra(
            summary,
            sources=",".join(r["source"] for r in results),
            window_start=start and start.isoformat(),
            window_end=end and end.isoformat(),
        )
        return len(warehouse.init(get_settings(), publish_marts=False))  # published by the report DAG

    build_models(ingest_source.expand(source=list_sources()))


dag = feedback_ingest()

if __name__ == "__main__":
    dag.test()
