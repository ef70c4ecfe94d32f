"""docker-compose.yml is checked structurally (no Docker engine runs here)."""

from __future__ import annotations

import re

import yaml

from pipelines.config import Settings
from tests.conftest import ROOT

COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]


def test_official_airflow3_layout():
    expected = {
        "postgres",
        "airflow-apiserver",
        "airflow-scheduler",
        "airflow-dag-processor",
        "airflow-triggerer",
        "airflow-init",
    }
    assert expected <= set(SERVICES)
    commands = {name: svc.get("command") for name, svc in SERVICES.items()}
    assert commands["airflow-apiserver"] == "api-server"
    assert commands["airflow-scheduler"] == "scheduler"
    assert commands["airflow-dag-processor"] == "dag-processor"
    assert commands["airflow-triggerer"] == "triggerer"


def test_airflow_services_share_image_env_and_metadata_db():
    for name, svc in SERVICES.items():
        if not name.startswith("airflow-"):
            continue
        env = svc["environment"]
        assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql+psycopg2://"), name
        assert "@postgres/" in env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"], name
        assert svc["build"] == ".", name
        assert svc["depends_on"]["postgres"]["condition"] == "service_healthy", name
        if name != "airflow-init":
            assert svc["depends_on"]["airflow-init"]["condition"] == "service_completed_successfully", name
            assert "healthcheck" in svc, name


def test_image_is_built_from_dockerfile_that_installs_project():
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11", dockerfile, re.M)
    # One install path: the image runs the same script as `make install` and CI.
    assert re.search(r"^RUN .*scripts/install\.sh", dockerfile, re.M)
    assert "scripts/install.sh" in (ROOT / "Makefile").read_text()
    script = (ROOT / "scripts" / "install.sh").read_text()
    torch, lock, project = (
        script.index("torch==2.13.0"),
        script.index("--require-hashes -r requirements.lock"),
        script.index("--no-deps --no-build-isolation -e ."),
    )
    assert torch < lock < project, "torch's CPU wheel must be installed before anything can pull a CUDA build"


def test_volumes_and_ports_are_declared():
    declared = set(COMPOSE["volumes"])
    for name, svc in SERVICES.items():
        for volume in svc.get("volumes", []):
            source = volume.split(":", 1)[0]
            if not source.startswith((".", "/")):
                assert source in declared, (name, source)
            elif source not in {"./reports"}:  # output folder: created by Docker on first start
                assert (ROOT / source).exists(), (name, source)
    assert "8080:8080" in SERVICES["airflow-apiserver"]["ports"]


def test_init_creates_the_single_writer_pool_the_dags_use():
    common = (ROOT / "dags" / "_common.py").read_text()
    pool = re.search(r'WRITER_POOL = "([^"]+)"', common).group(1)
    init = " ".join(SERVICES["airflow-init"]["command"])
    assert f"airflow pools set {pool} 1" in init


def test_feedback_env_vars_are_ones_the_settings_read():
    env = SERVICES["airflow-scheduler"]["environment"]
    names = {k for k in env if k.startswith("FEEDBACK_")}
    settings = Settings.from_env({k: v for k, v in env.items() if k.startswith("FEEDBACK_")})
    assert str(settings.warehouse) == env["FEEDBACK_WAREHOUSE"]
    assert names <= set(re.findall(r"FEEDBACK_[A-Z_]+", (ROOT / "pipelines" / "config.py").read_text()))
