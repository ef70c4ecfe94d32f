"""docker-compose.yml: validated by `docker-compose config`, and checked against Airflow's official layout.

No Docker engine runs here. PyPI's docker-compose 1.29.2 validates a compose file (its schema, its
interpolation) without one; it needs PyYAML 5.4.1, which only builds with old Cython, so it gets a
venv of its own under the user's cache folder (created once, by the first run of this test), never
the project's .venv.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from pipelines.config import Settings
from tests.conftest import ROOT

COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
AIRFLOW = {name: svc for name, svc in SERVICES.items() if name.startswith("airflow-") or name == "flower"}
# Airflow's official docker-compose.yaml for CeleryExecutor (3.x): service -> command.
OFFICIAL = {
    "postgres": None,
    "redis": None,
    "airflow-apiserver": "api-server",
    "airflow-scheduler": "scheduler",
    "airflow-dag-processor": "dag-processor",
    "airflow-worker": "celery worker",
    "airflow-triggerer": "triggerer",
    "airflow-init": None,
}
SECRETS = {
    "AIRFLOW__CORE__FERNET_KEY": "AIRFLOW_FERNET_KEY",
    "AIRFLOW__API_AUTH__JWT_SECRET": "AIRFLOW_JWT_SECRET",
    "AIRFLOW__API__SECRET_KEY": "AIRFLOW_API_SECRET_KEY",
}
# Named volume -> the Settings path it holds.
DATA_VOLUMES = {
    "feedback-warehouse": lambda s: s.warehouse.parent,
    "feedback-models": lambda s: s.models_dir / "themes" / "build",
    "feedback-reports": lambda s: s.reports_dir,
    "feedback-gx-uncommitted": lambda s: s.gx_dir / "gx" / "uncommitted",
}
COMPOSE_VERSION = "1.29.2"


def _mounts(svc: dict) -> dict[str, str]:
    return dict(v.split(":")[:2] for v in svc.get("volumes", []))


def _settings() -> Settings:
    env = SERVICES["airflow-scheduler"]["environment"]
    return Settings.from_env({k: v for k, v in env.items() if k.startswith("FEEDBACK_")})


@pytest.fixture(scope="session")
def docker_compose() -> Path:
    """docker-compose 1.29.2 in its own venv under the cache folder (built on first use)."""
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "patient-feedback"
    venv = cache / f"docker-compose-{COMPOSE_VERSION}"
    exe = venv / "bin" / "docker-compose"
    if not exe.exists():
        pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
        steps = [
            [sys.executable, "-m", "venv", str(venv)],
            [*pip, "cython<3", "wheel", "setuptools<70"],
            [*pip, "--no-build-isolation", "pyyaml==5.4.1"],
            [*pip, f"docker-compose=={COMPOSE_VERSION}"],
        ]
        for step in steps:
            subprocess.run(step, check=True, capture_output=True, timeout=600)
    return exe


def _project(tmp_path: Path, secrets: dict[str, str]) -> Path:
    """A copy of the compose project with a .env made from .env.example plus ``secrets``."""
    (tmp_path / "docker-compose.yml").write_text((ROOT / "docker-compose.yml").read_text())
    lines = []
    for line in (ROOT / ".env.example").read_text().splitlines():
        key = line.split("=", 1)[0]
        lines.append(f"{key}={secrets[key]}" if key in secrets else line)
    (tmp_path / ".env").write_text("\n".join(lines) + "\n")
    for folder in ("dags", "config"):
        (tmp_path / folder).symlink_to(ROOT / folder)
    return tmp_path


def _config(exe: Path, project: Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "COMPOSE_"))}
    return subprocess.run(
        [str(exe), "--project-directory", str(project), "-f", str(project / "docker-compose.yml"), "config"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_docker_compose_config_validates_with_one_secret_set(docker_compose, tmp_path):
    secrets = {"AIRFLOW_FERNET_KEY": "fernet-x", "AIRFLOW_JWT_SECRET": "jwt-x", "AIRFLOW_API_SECRET_KEY": "api-x"}
    out = _config(docker_compose, _project(tmp_path, secrets))
    assert out.returncode == 0, out.stderr
    resolved = yaml.safe_load(out.stdout)
    assert set(OFFICIAL) <= set(resolved["services"])
    for name, svc in resolved["services"].items():
        if name in AIRFLOW:
            env = svc["environment"]
            for setting, variable in SECRETS.items():
                assert env[setting] == secrets[variable], (name, setting)
    assert set(DATA_VOLUMES) <= set(resolved["volumes"])


def test_docker_compose_config_refuses_missing_secrets(docker_compose, tmp_path):
    out = _config(docker_compose, _project(tmp_path, {}))
    assert out.returncode != 0
    assert "set AIRFLOW_FERNET_KEY in .env" in out.stderr


def test_official_airflow3_celery_layout():
    assert set(OFFICIAL) <= set(SERVICES)
    for name, command in OFFICIAL.items():
        if command:
            assert SERVICES[name]["command"] == command, name
    env = SERVICES["airflow-scheduler"]["environment"]
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert (
        env["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://")
        and "@redis:6379/" in env["AIRFLOW__CELERY__BROKER_URL"]
    )
    assert env["AIRFLOW__CELERY__RESULT_BACKEND"].startswith("db+postgresql+psycopg2://")
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://airflow-apiserver:8080/execution/"
    assert "8080:8080" in SERVICES["airflow-apiserver"]["ports"]


def test_airflow_services_share_image_env_secrets_and_metadata_db():
    for name, svc in AIRFLOW.items():
        env = svc["environment"]
        assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith("postgresql+psycopg2://"), name
        assert "@postgres/" in env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"], name
        for setting, variable in SECRETS.items():
            assert env[setting].startswith(f"${{{variable}:?"), (name, setting)  # required: no default secret
        assert svc["build"] == ".", name
        assert svc["user"] == ("0:0" if name == "airflow-init" else "50000:0"), name
        for dependency in ("postgres", "redis"):
            assert svc["depends_on"][dependency]["condition"] == "service_healthy", (name, dependency)
        if name != "airflow-init" and svc.get("profiles") != ["debug"]:  # the debug CLI may run before init
            assert svc["depends_on"]["airflow-init"]["condition"] == "service_completed_successfully", name
            assert "healthcheck" in svc, name


def test_health_checks_use_only_what_the_image_has():
    # python:3.11-slim has no curl or wget: HTTP checks go through Python's urllib.
    for name, svc in SERVICES.items():
        test = svc.get("healthcheck", {}).get("test")
        if not test:
            continue
        text = " ".join(test) if isinstance(test, list) else test
        assert not re.search(r"\b(curl|wget)\b", text), name
        if name in AIRFLOW:
            assert re.search(r"python -c .*urllib|airflow jobs check|celery --app airflow", text), name


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
    # `command: scheduler` runs `airflow scheduler`: the entrypoint is airflow itself.
    assert re.search(r'^ENTRYPOINT \["airflow"\]', dockerfile, re.M)
    assert re.search(r"^USER 50000", dockerfile, re.M)


def test_named_volumes_hold_warehouse_models_reports_and_gx_writable_by_uid_50000():
    settings = _settings()
    declared = set(COMPOSE["volumes"])
    assert set(DATA_VOLUMES) <= declared
    dockerfile = (ROOT / "Dockerfile").read_text()
    init = " ".join(SERVICES["airflow-init"]["command"])
    for name, svc in AIRFLOW.items():
        mounts = _mounts(svc)
        for volume, path in DATA_VOLUMES.items():
            target = str(path(settings))
            assert mounts.get(volume) == target, (name, volume)
        for source in mounts:
            if source.startswith((".", "/")):
                assert (ROOT / source).exists(), (name, source)
            else:
                assert source in declared, (name, source)
    for volume, path in DATA_VOLUMES.items():
        target = str(path(settings))
        assert target in dockerfile, f"the image must create {target} (owned by 50000) for {volume}"
        assert target in init, f"airflow-init must chown {target} for {volume}"
    assert "chown -R 50000:0" in init and "chown -R 50000:0" in dockerfile


def test_init_creates_the_single_writer_pool_the_dags_use():
    common = (ROOT / "dags" / "_common.py").read_text()
    pool = re.search(r'WRITER_POOL = "([^"]+)"', common).group(1)
    init = " ".join(SERVICES["airflow-init"]["command"])
    assert "airflow db migrate" in init
    assert f"airflow pools set {pool} 1" in init


def test_feedback_env_vars_are_ones_the_settings_read():
    env = SERVICES["airflow-scheduler"]["environment"]
    names = {k for k in env if k.startswith("FEEDBACK_")}
    assert str(_settings().warehouse) == env["FEEDBACK_WAREHOUSE"]
    assert names <= set(re.findall(r"FEEDBACK_[A-Z_]+", (ROOT / "pipelines" / "config.py").read_text()))


def test_env_example_lists_every_variable_the_compose_file_needs():
    example = {
        line.split("=", 1)[0].lstrip("# ").strip()
        for line in (ROOT / ".env.example").read_text().splitlines()
        if "=" in line
    }
    needed = set(re.findall(r"(?<!\$)\$\{([A-Z_]+)", (ROOT / "docker-compose.yml").read_text()))
    assert needed <= example, needed - example
    assert "AIRFLOW_CONN_FEEDBACK_ALERTS_SMTP" in example  # the failure-alert connection is documented
