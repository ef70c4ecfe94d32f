"""Redact PHI and score sentiment for new or changed feedback.

Runs when `feedback://warehouse/raw` is updated. Redaction happens before anything else reads
the text; sentiment (comment and clause level) is scored on the redacted text.
Updates `feedback://warehouse/enriched` (metadata: rows, redactor and sentiment model versions),
which triggers `feedback_themes`.
"""

from __future__ import annotations

import pendulum
from _common import DEFAULT_ARGS, ENRICHED, RAW, TAGS, TIMEOUTS, asset_extra
from airflow.sdk import dag, task


@dag(
    schedule=[RAW],
    start_date=pendulum.datetime(2026, 1, 1, tz="Europe/London"),
    catchup=False,
    max_active_runs=1,
    max_active_tasks=1,
    tags=[*TAGS, "enrich"],
    default_args=DEFAULT_ARGS,
    doc_md=__doc__,
)
def feedback_enrich() -> None:  # noqa: D103 - the module docstring is the DAG's doc_md
    @task(outlets=[ENRICHED], execution_timeout=TIMEOUTS["enrich"])
    def enrich(**context) -> dict:
        from pipelines import stages as run
        from pipelines.config import get_settings

        summary = run.enrich_stage(get_settings(), context["run_id"])
        context["outlet_events"][ENRICHED].extra = asset_extra(summary)
        return {"rows_in": summary["rows_in"], "rows_out": summary["rows_out"]}

    enrich()


dag = feedback_enrich()

if __name__ == "__main__":
    dag.test()
