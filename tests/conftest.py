"""Shared fixtures: isolated settings per test, offline model loading, Airflow home."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# Offline by construction: no hub, no telemetry, no public-suffix downloads.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
os.environ.setdefault("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
# Two xdist workers share the cores: OpenMP threads that busy-wait would steal them from each other.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


@pytest.fixture
def settings(tmp_path: Path):
    """Settings pointing every writable path into a fresh temporary folder."""
    from pipelines.config import Settings

    env = {
        "FEEDBACK_HOME": str(ROOT),
        "FEEDBACK_DATA_DIR": str(tmp_path / "data"),
        "FEEDBACK_WAREHOUSE": str(tmp_path / "data" / "warehouse.duckdb"),
        "FEEDBACK_REPORTS_DIR": str(tmp_path / "reports"),
        "FEEDBACK_SOURCES_DIR": str(tmp_path / "sources"),
        "FEEDBACK_GX_DIR": str(tmp_path / "gx"),
    }
    (tmp_path / "sources").mkdir()
    (tmp_path / "data").mkdir()
    return Settings.from_env(env)


@pytest.fixture(scope="session")
def airflow_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An Airflow home with a migrated SQLite metadata DB (what dag.test() needs)."""
    import subprocess
    import sys

    home = tmp_path_factory.mktemp("airflow_home")
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_FOLDER": str(ROOT / "dags"),
        "AIRFLOW__CORE__UNIT_TEST_MODE": "False",
    }
    airflow = Path(sys.executable).parent / "airflow"
    subprocess.run([str(airflow), "db", "migrate"], env=env, check=True, capture_output=True, timeout=600)
    os.environ.update({k: v for k, v in env.items() if k.startswith("AIRFLOW")})
    # Airflow puts the DAGs folder on sys.path (DAG files share dags/_common.py); mirror it.
    if str(ROOT / "dags") not in sys.path:
        sys.path.insert(0, str(ROOT / "dags"))
    return home
