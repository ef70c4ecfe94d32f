"""Write the theme report, the committee trend pack and the run status page.

Runs when `feedback://warehouse/themed` is updated. Reads only the `reporting` views and
writes self-contained HTML plus CSV/XLSX exports to `FEEDBACK_REPORTS_DIR`.
"""

from __future__ import annotations

import pendulum
from _common import DEFAULT_ARGS, REPORTS, TAGS, THEMED
from airflow.sdk import Param, dag, task


@dag(
    schedule=[THEMED],
    start_date=pendulum.datetime(2026, 1, 1, tz="Europe/London"),
    catchup=False,
    max_active_runs=1,
    max_active_tasks=1,
    tags=[*TAGS, "report"],
    default_args=DEFAULT_ARGS,
    params={"period": Param(None, type=["null", "string"], description="Report month YYYY-MM (default: latest).")},
    doc_md=__doc__,
)
def feedback_report() -> None:  # noqa: D103 - the module docstring is the DAG's doc_md
    @task(outlets=[REPORTS])
    def report(**context) -> list[str]:
        from pipelines import periods
        from pipelines import stages as run
        from pipelines.config import get_settings

        period = context["params"].get("period")
        month = periods.parse_period(period) if period else None
        summary = run.report_stage(get_settings(), context["run_id"], month=month)
        return summary["files"]

    report()


dag = feedback_report()

if __name__ == "__main__":
    dag.test()
