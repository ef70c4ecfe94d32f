"""Write the theme report, the committee trend pack and the run status page.

Runs when `feedback://warehouse/themed` is updated. Reads only the `reporting` views and
writes self-contained HTML plus CSV/XLSX exports to `FEEDBACK_REPORTS_DIR`, and the PHI-free
reporting extract BI tools open (`FEEDBACK_REPORTING_EXTRACT`, docs/bi.md). `start`/`end` (a
backfill of whole months) report that window instead of `period`. Updates `feedback://reports/all`
(metadata: files written and the period asked for).
"""

from __future__ import annotations

import pendulum
from _common import DEFAULT_ARGS, REPORTS, TAGS, THEMED, TIMEOUTS, WINDOW_PARAMS, asset_extra, report_period
from airflow.sdk import Param, dag, task


@dag(
    schedule=[THEMED],
    start_date=pendulum.datetime(2026, 1, 1, tz="Europe/London"),
    catchup=False,
    max_active_runs=1,
    max_active_tasks=1,
    tags=[*TAGS, "report"],
    default_args=DEFAULT_ARGS,
    params={
        "period": Param(
            None,
            type=["null", "string"],
            description="Report period: YYYY-MM, YYYY-Qn or last-N-months (default: the latest complete month "
            "with enough responses).",
        ),
        "min_responses": Param(30, type="integer", minimum=1, description="Responses a default period needs."),
        **WINDOW_PARAMS,
    },
    doc_md=__doc__,
)
def feedback_report() -> None:  # noqa: D103 - the module docstring is the DAG's doc_md
    @task(outlets=[REPORTS], execution_timeout=TIMEOUTS["report"])
    def report(**context) -> list[str]:
        from pipelines import periods
        from pipelines import stages as run
        from pipelines.config import get_settings

        params = context["params"]
        period = report_period(params)
        summary = run.report_stage(
            get_settings(),
            context["run_id"],
            period=period,
            min_responses=params.get("min_responses") or periods.MIN_RESPONSES,
        )
        context["outlet_events"][REPORTS].extra = asset_extra(
            summary, period=getattr(period, "key", None) or params.get("period") or "default"
        )
        return summary["files"]

    report()


dag = feedback_report()

if __name__ == "__main__":
    dag.test()
