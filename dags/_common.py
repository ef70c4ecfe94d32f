"""Shared DAG settings: assets that chain the DAGs and the one-writer pool.

Stdlib and airflow.sdk only: this module is imported at parse time.
"""

from __future__ import annotations

from datetime import timedelta

from airflow.sdk import Asset

# Each DAG updates one asset; the next DAG is scheduled on it (ingest -> enrich -> themes -> report).
RAW = Asset("feedback://warehouse/raw")
ENRICHED = Asset("feedback://warehouse/enriched")
THEMED = Asset("feedback://warehouse/themed")
REPORTS = Asset("feedback://reports/all")

# DuckDB allows one writer per file: every writing task takes the single slot of this pool
# (created by docker-compose's airflow-init: `airflow pools set feedback_duckdb 1 ...`).
WRITER_POOL = "feedback_duckdb"

DEFAULT_ARGS = {
    "owner": "data-team",
    "retries": 2,
    "retry_delay": timedelta(minutes=5),
    "pool": WRITER_POOL,
}
TAGS = ["patient-feedback"]
