"""Embed new clauses in partitions, assign themes with BERTopic (refit when due), compute insights.

Runs when `feedback://warehouse/enriched` is updated. The clause texts the theme stage has no
vector for are planned into Parquet partitions and embedded by one mapped task each, on any
worker (docs/scaling.md); the vectors are loaded into the embeddings cache, so the theme task
itself embeds nothing. New comments are assigned to existing themes daily; the model is refitted
on its schedule (see models/themes/config.yaml) or when triggered with the param `refit=true`.
Updates `feedback://warehouse/themed` (metadata: rows and the theme model version).
"""

from __future__ import annotations

import pendulum
from _common import COMPUTE_POOL, DEFAULT_ARGS, ENRICHED, PARTITION_NAME, TAGS, THEMED, TIMEOUTS, asset_extra
from airflow.sdk import Param, dag, task


@dag(
    schedule=[ENRICHED],
    start_date=pendulum.datetime(2026, 1, 1, tz="Europe/London"),
    catchup=False,
    max_active_runs=1,
    max_active_tasks=16,
    tags=[*TAGS, "themes"],
    default_args=DEFAULT_ARGS,
    params={"refit": Param(None, type=["null", "boolean"], description="Force (true) or forbid (false) a refit.")},
    doc_md=__doc__,
)
def feedback_themes() -> None:  # noqa: D103 - the module docstring is the DAG's doc_md
    @task(execution_timeout=TIMEOUTS["plan_embedding"])
    def plan_embedding(**context) -> list[dict]:
        from pipelines import stages as run
        from pipelines.config import get_settings

        return run.embed_plan(get_settings(), context["run_id"])

    @task(pool=COMPUTE_POOL, execution_timeout=TIMEOUTS["embed"], map_index_template=PARTITION_NAME)
    def embed(part: dict) -> dict:
        from pipelines.config import get_settings
        from pipelines.partitions import Partition
        from pipelines.themes.embedding import embed_partition

        embed_partition(get_settings(), Partition.from_dict(part))
        return {"rows": part["rows"]}

    @task(trigger_rule="none_failed", execution_timeout=TIMEOUTS["load_embeddings"])
    def load_embeddings(parts: list[dict], **context) -> int:
        from pipelines import stages as run
        from pipelines.config import get_settings

        return run.embed_load(get_settings(), context["run_id"], [parts[i] for i in range(len(parts))])

    @task(outlets=[THEMED], trigger_rule="none_failed", execution_timeout=TIMEOUTS["themes"])
    def themes(**context) -> dict:
        from pipelines import stages as run
        from pipelines.config import get_settings

        summary = run.themes_stage(get_settings(), context["run_id"], refit=context["params"].get("refit"))
        context["outlet_events"][THEMED].extra = asset_extra(summary)
        return {"rows_in": summary.get("rows_in"), "rows_out": summary.get("rows_out")}

    planned = plan_embedding()
    embedded = embed.expand(part=planned)
    loaded = load_embeddings(planned)
    embedded >> loaded >> themes()


dag = feedback_themes()

if __name__ == "__main__":
    dag.test()
