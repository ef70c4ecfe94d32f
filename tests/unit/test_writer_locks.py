"""Every command that writes the warehouse outside the pipeline's stages takes the run lock.

`feedback report`, `feedback action add | import | remove` and `feedback label import` write
the warehouse too. While another process holds the run lock (a `feedback run`, an Airflow task),
each of them waits for it (``--wait`` seconds) and then does its work, or, when it will not wait
that long, stops with a plain "another run holds the warehouse" message (WarehouseBusy) before
touching anything: never DuckDB's own lock error half-way through.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from pipelines import warehouse
from pipelines.cli import app
from pipelines.config import Settings
from tests.conftest import ROOT

FEEDBACK = str(Path(sys.executable).parent / "feedback")
HOLD = textwrap.dedent(
    """
    import pathlib, sys, time
    from pipelines import warehouse
    from pipelines.config import Settings
    with warehouse.run_lock(Settings.from_env()):
        pathlib.Path(sys.argv[1]).touch()
        time.sleep(float(sys.argv[2]))
    """
)


def _env(settings: Settings) -> dict[str, str]:
    return {
        "FEEDBACK_HOME": str(ROOT),
        "FEEDBACK_WAREHOUSE": str(settings.warehouse),
        "FEEDBACK_REPORTS_DIR": str(settings.reports_dir),
        "FEEDBACK_SOURCES_DIR": str(settings.sources_dir),
        "COLUMNS": "200",
    }


@pytest.fixture
def held(settings, tmp_path, monkeypatch):
    """A warehouse whose run lock another process holds; yields (settings, holder process, release)."""
    warehouse.init(settings)
    for key, value in _env(settings).items():
        monkeypatch.setenv(key, value)
    marker = tmp_path / "holding"
    processes: list[subprocess.Popen] = []

    def hold(seconds: float) -> subprocess.Popen:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        proc = subprocess.Popen([sys.executable, "-c", HOLD, str(marker), str(seconds)], env=env, cwd=ROOT)
        processes.append(proc)
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert proc.poll() is None, "the lock holder ended early"
            assert time.monotonic() < deadline, "the lock holder did not start"
            time.sleep(0.05)
        return proc

    yield settings, hold
    for proc in processes:
        proc.kill()
        proc.wait()


def _actions_sheet(path: Path) -> Path:
    path.write_text("theme,start,description\nT0001,2026-08-01,Overflow car park opened\n", encoding="utf-8")
    return path


COMMANDS = {
    "report": lambda tmp: ["report", "--period", "2026-10", "--out", str(tmp / "out")],
    "action add": lambda tmp: ["action", "add", "--theme", "T0001", "--start", "2026-08-01", "--description", "x"],
    "action import": lambda tmp: ["action", "import", str(_actions_sheet(tmp / "actions.csv"))],
    "action remove": lambda tmp: ["action", "remove", "A12345678"],
    "label import": lambda tmp: ["label", "import", str(tmp / "labels.csv")],
}


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_a_writer_that_will_not_wait_gets_a_clear_busy_message(held, tmp_path, command):
    settings, hold = held
    holder = hold(60)
    started = time.monotonic()
    result = CliRunner().invoke(app, [*COMMANDS[command](tmp_path), "--wait", "0"])
    assert time.monotonic() - started < 30
    assert result.exit_code != 0
    message = result.output + str(result.exception or "")
    assert f"another run (pid {holder.pid} on " in message and "holds the warehouse" in message, message
    # Printed by the command (label import), or raised for the console script to print in one line (next test).
    assert isinstance(result.exception, SystemExit | warehouse.WarehouseBusy), repr(result.exception)
    assert not (tmp_path / "out").exists()


def test_the_console_script_says_so_in_one_line_and_exits_2(held, tmp_path):
    settings, hold = held
    holder = hold(60)
    env = {**os.environ, **_env(settings), "PYTHONPATH": str(ROOT)}
    out = subprocess.run(
        [FEEDBACK, *COMMANDS["action add"](tmp_path), "--wait", "0"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 2, out.stdout + out.stderr
    assert f"warehouse: another run (pid {holder.pid} on " in " ".join(out.stdout.split())
    assert "Traceback" not in out.stdout + out.stderr


def test_a_writer_that_waits_does_its_work_when_the_run_ends(held, tmp_path):
    settings, hold = held
    hold(2)
    started = time.monotonic()
    result = CliRunner().invoke(app, [*COMMANDS["action import"](tmp_path), "--wait", "60"])
    assert result.exit_code == 0, result.output + repr(result.exception)
    assert time.monotonic() - started >= 1
    assert "waiting for the warehouse held by another run" in result.output
    assert "imported 1 action(s)" in result.output
    with warehouse.connect(settings, read_only=True) as con:
        assert con.execute("select count(*) from ops.actions").fetchone()[0] == 1
