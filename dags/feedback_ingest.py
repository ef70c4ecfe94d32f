"""Ingest every configured feedback source (surveys, suggestion box, complaints).

One mapped task per source YAML in `config/sources/`; each pulls only files it has not
ingested before, validates rows with Great Expectations and quarantines bad rows with a reason.
A source that quarantines more than `FEEDBACK_QUARANTINE_MAX` of its rows fails loudly.
Updates the `feedback://warehouse/raw` asset, which triggers `feedback_enrich`.
"""

from __future__ import annotations

import pendulum
from _common import DEFAULT_ARGS, RAW, TAGS
from airflow.sdk import dag, task


@dag(
    schedule="0 6 * * *",
    start_date=pendulum.datetime(2026, 1, 1, tz="Europe/London"),
    catchup=False,
    max_active_runs=1,
    max_active_tasks=1,
    tags=[*TAGS, "ingest"],
    default_args=DEFAULT_ARGS,
    doc_md=__doc__,
)
def feedback_ingest() -> None:  # noqa: D103 - the module docstring is the DAG's doc_md
    @task
    def list_sources() -> list[str]:
        from pipelines.config import get_settings
        from pipelines.sources.base import load_source_configs

        return [c.name for c in load_source_configs(get_settings().sources_dir)]

    @task(max_active_tis_per_dag=1)
    def ingest_source(source: str, **context) -> dict:
        from pipelines import stages as run
        from pipelines.config import get_settings

        summary = run.ingest_stage(get_settings(), context["run_id"], sources=[source])
        return {"source": source, "rows_in": summary["rows_in"], "rows_out": summary["rows_out"]}

    @task(outlets=[RAW])
    def build_models() -> int:
        from pipelines import warehouse
        from pipelines.config import get_settings

        return len(warehouse.init(get_settings()))

    ingest_source.expand(source=list_sources()) >> build_models()


dag = feedback_ingest()

if __name__ == "__main__":
    dag.test()
