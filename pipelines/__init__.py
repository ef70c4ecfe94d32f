"""Patient-feedback analytics: ingest, validate, redact, score, theme and report.

The importable library behind the Airflow DAGs in ``dags/`` and the ``feedback`` CLI.
Nothing here imports Airflow; heavy ML libraries are imported lazily inside the stages.
"""

__version__ = "0.1.0"
