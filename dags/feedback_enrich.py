"""Redact PHI and score sentiment for new or changed feedback, in partitions.

Runs when `feedback://warehouse/raw` is updated. Redaction happens before anything else reads
the text; sentiment (comment and clause level) is scored on the redacted text. Both are
partitioned (docs/scaling.md): a planning task writes the pending records to Parquet partitions
(`FEEDBACK_PARTITIONS`, default 4), one mapped task per partition computes it on any worker
without opening the warehouse, and a loading task merges the results into DuckDB (idempotent
upserts). Nothing changed since the last success: the stage is recorded as skipped and no
partition runs.
Updates `feedback://warehouse/enriched` (metadata: rows, redactor and sentiment model versions),
which triggers `feedback_themes`.
"""

from __future__ import annotations

import pendulum
from _common import COMPUTE_POOL, DEFAULT_ARGS, ENRICHED, PARTITION_NAME, RAW, TAGS, TIMEOUTS, asset_extra
from airflow.sdk import dag, task


@dag(
    schedule=[RAW],
    start_date=pendulum.datetime(2026, 1, 1, tz="Europe/London"),
    catchup=False,
    max_active_runs=1,
    max_active_tasks=16,
    tags=[*TAGS, "enrich"],
    default_args=DEFAULT_ARGS,
    doc_md=__doc__,
)
def feedback_enrich() -> None:  # noqa: D103 - the module docstring is the DAG's doc_md
    @task(execution_timeout=TIMEOUTS["plan_redaction"])
    def plan_redaction(**context) -> list[dict]:
        from pipelines import stages as run
        from pipelines.config import get_settings

        return run.enrich_plan(get_settings(), context["run_id"])

    @task(pool=COMPUTE_POOL, execution_timeout=TIMEOUTS["redact"], map_index_template=PARTITION_NAME)
    def redact(part: dict) -> dict:
        from pipelines.config import get_settings
        from pipelines.partitions import Partition
        from pipelines.privacy.stage import redact_partition

        redact_partition(get_settings(), Partition.from_dict(part))
        return {"rows": part["rows"]}

    @task(trigger_rule="none_failed", execution_timeout=TIMEOUTS["plan_scoring"])
    def plan_scoring(**context) -> list[dict]:
        from pipelines import stages as run
        from pipelines.config import get_settings

        return run.enrich_middle(get_settings(), context["run_id"])

    @task(pool=COMPUTE_POOL, execution_timeout=TIMEOUTS["score"], map_index_template=PARTITION_NAME)
    def score(part: dict) -> dict:
        from pipelines.config import get_settings
        from pipelines.partitions import Partition
        from pipelines.sentiment.stage import score_partition

        score_partition(get_settings(), Partition.from_dict(part))
        return {"rows": part["rows"]}

    @task(outlets=[ENRICHED], trigger_rule="none_failed", execution_timeout=TIMEOUTS["load"])
    def load(**context) -> dict:
        from pipelines import stages as run
        from pipelines.config import get_settings

        summary = run.enrich_finish(get_settings(), context["run_id"])
        context["outlet_events"][ENRICHED].extra = asset_extra(summary)
        return {"rows_in": summary["rows_in"], "rows_out": summary["rows_out"]}

    scoring = plan_scoring()
    redact.expand(part=plan_redaction()) >> scoring
    score.expand(part=scoring) >> load()


dag = feedback_enrich()

if __name__ == "__main__":
    dag.test()
