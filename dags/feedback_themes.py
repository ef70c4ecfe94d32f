"""Assign themes with BERTopic (refit when due) and compute emerging themes and key drivers.

Runs when `feedback://warehouse/enriched` is updated. New comments are assigned to existing
themes daily; the model is refitted on its schedule (see models/themes/config.yaml) or when
triggered with the param `refit=true`. Updates `feedback://warehouse/themed` (metadata: rows and
the theme model version).
"""

from __future__ import annotations

import pendulum
from _common import DEFAULT_ARGS, ENRICHED, TAGS, THEMED, TIMEOUTS, asset_extra
from airflow.sdk import Param, dag, task


@dag(
    schedule=[ENRICHED],
    start_date=pendulum.datetime(2026, 1, 1, tz="Europe/London"),
    catchup=False,
    max_active_runs=1,
    max_active_tasks=1,
    tags=[*TAGS, "themes"],
    default_args=DEFAULT_ARGS,
    params={"refit": Param(None, type=["null", "boolean"], description="Force (true) or forbid (false) a refit.")},
    doc_md=__doc__,
)
def feedback_themes() -> None:  # noqa: D103 - the module docstring is the DAG's doc_md
    @task(outlets=[THEMED], execution_timeout=TIMEOUTS["themes"])
    def themes(**context) -> dict:
        from pipelines import stages as run
        from pipelines.config import get_settings

        summary = run.themes_stage(get_settings(), context["run_id"], refit=context["params"].get("refit"))
        context["outlet_events"][THEMED].extra = asset_extra(summary)
        return {"rows_in": summary.get("rows_in"), "rows_out": summary.get("rows_out")}

    themes()


dag = feedback_themes()

if __name__ == "__main__":
    dag.test()
