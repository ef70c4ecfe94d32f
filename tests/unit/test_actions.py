from datetime import date
from pathlib import Path

import pandas as pd
import pytest
import typer
from typer.testing import CliRunner

from pipelines import warehouse
from pipelines.cli.report import register
from pipelines.config import Settings
from pipelines.demo import report_sample as sample
from pipelines.insights import actions

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def env(tmp_path, monkeypatch):
    values = {
        "FEEDBACK_HOME": str(ROOT),
        "FEEDBACK_WAREHOUSE": str(tmp_path / "wh.duckdb"),
        "FEEDBACK_REPORTS_DIR": str(tmp_path / "reports"),
    }
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    settings = Settings.from_env(values)
    with warehouse.connect(settings) as con:
        sample.load_sample(settings, con, n_records=300, actions=False)
    return settings


@pytest.fixture
def cli():
    app = typer.Typer()

    @app.callback()
    def _root() -> None:
        """Test root."""

    register(app)
    runner = CliRunner()
    return lambda *args: runner.invoke(app, list(args))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-08-01", date(2026, 8, 1)),
        ("01/08/2026", date(2026, 8, 1)),
        ("1.8.2026", date(2026, 8, 1)),
        (pd.Timestamp("2026-08-01 10:00").to_pydatetime(), date(2026, 8, 1)),
        (date(2026, 8, 1), date(2026, 8, 1)),
    ],
)
def test_parse_date(value, expected):
    assert actions.parse_date(value) == expected


def test_parse_date_rejects_ambiguous_text():
    with pytest.raises(ValueError, match="not a date"):
        actions.parse_date("August 1st")


def test_action_id_is_stable_and_content_based():
    a = actions.Action("T0001", date(2026, 8, 1), "Overflow car park", site="North Hospital")
    b = actions.Action("T0001", date(2026, 8, 1), "Overflow car park", site="North Hospital", owner="Estates")
    c = actions.Action("T0001", date(2026, 8, 2), "Overflow car park", site="North Hospital")
    assert a.action_id == b.action_id != c.action_id
    assert a.action_id.startswith("A") and len(a.action_id) == 9


def test_record_resolves_labels_and_rejects_bad_actions(env):
    with warehouse.connect(env) as con:
        ids, warnings = actions.record(
            env, con, [actions.Action("car parking", date(2026, 8, 1), "Signage", site="Nowhere Hospital")], "test"
        )
        assert len(ids) == 1
        assert any("Nowhere Hospital" in w for w in warnings)
        saved = actions.list_actions(env, con)
        assert saved["theme_id"].tolist() == ["T0001"]
        with pytest.raises(actions.ActionError) as err:
            actions.record(
                env,
                con,
                [
                    actions.Action("T0099", date(2026, 8, 1), "x"),
                    actions.Action("T0002", date(2026, 8, 1), " "),
                    actions.Action("T0002", date(2026, 8, 1), "y", end_date=date(2026, 7, 1)),
                    actions.Action("T0002", date(2026, 8, 1), "z", status="finished"),
                ],
                "test",
            )
        problems = " | ".join(err.value.problems)
        assert "unknown theme 'T0099'" in problems and "T0001 (Car parking)" in problems
        assert "description is empty" in problems
        assert "before the start date" in problems
        assert "status must be one of" in problems
        assert len(actions.list_actions(env, con)) == 1  # nothing of the bad batch was saved
        assert actions.remove(env, con, ids[0]) is True
        assert actions.remove(env, con, ids[0]) is False


def _sheet() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "Theme": ["T0002", "Car parking", ""],
            "Site": ["South Hospital", "North Hospital", ""],
            "Service": ["", "Outpatients", ""],
            "Start date": ["2026-05-01", "15/10/2026", ""],
            "What we did": ["Evening triage nurse", "Overflow car park", ""],
            "Owner": ["ED matron", "", ""],
            "Status": ["In progress", "done", ""],
        }
    )


def test_read_csv_and_xlsx_sheets(tmp_path):
    csv_path = tmp_path / "actions.csv"
    _sheet().to_csv(csv_path, index=False)
    xlsx_path = tmp_path / "actions.xlsx"
    _sheet().to_excel(xlsx_path, index=False)
    for path in (csv_path, xlsx_path):
        items, rows = actions.read_file(path)
        assert [a.theme_id for a in items] == ["T0002", "Car parking"]
        assert items[1].start_date == date(2026, 10, 15)
        assert items[0].service is None and items[1].service == "Outpatients"
        assert items[0].status == "in progress" and items[1].status == "done"
        assert rows == [f"{path.name} row 2", f"{path.name} row 3"]


def test_read_file_reports_every_bad_row(tmp_path):
    path = tmp_path / "bad.csv"
    pd.DataFrame({"theme": ["T0001", "T0002"], "start": ["2026-13-45", "soon"], "description": ["a", "b"]}).to_csv(
        path, index=False
    )
    with pytest.raises(actions.ActionError) as err:
        actions.read_file(path)
    assert len(err.value.problems) == 2 and "bad.csv row 3" in err.value.problems[1]
    missing = tmp_path / "missing.csv"
    pd.DataFrame({"theme": ["T0001"]}).to_csv(missing, index=False)
    with pytest.raises(actions.ActionError, match="missing column"):
        actions.read_file(missing)
    other = tmp_path / "x.json"
    other.write_text("{}")
    with pytest.raises(actions.ActionError, match="xlsx or .csv"):
        actions.read_file(other)


def test_cli_add_import_list_remove_and_report(env, cli, tmp_path):
    help_text = cli("action", "add", "--help").output
    assert "--theme" in help_text and "--start" in help_text and "T0003" in help_text
    result = cli(
        "action",
        "add",
        "--theme",
        "T0002",
        "--site",
        "South Hospital",
        "--start",
        "2026-05-01",
        "--description",
        "Evening triage nurse",
    )
    assert result.exit_code == 0, result.output
    assert "recorded action" in result.output
    bad = cli("action", "add", "--theme", "T0099", "--start", "2026-05-01", "--description", "x")
    assert bad.exit_code == 1 and "unknown theme" in bad.output
    sheet = tmp_path / "actions.xlsx"
    _sheet().to_excel(sheet, index=False)
    imported = cli("action", "import", str(sheet))
    assert imported.exit_code == 0, imported.output
    assert "imported 2 action(s)" in imported.output
    again = cli("action", "import", str(sheet))  # idempotent: same rows, same ids
    assert again.exit_code == 0
    listed = cli("action", "list")
    assert listed.exit_code == 0 and "Overflow" in listed.output
    with warehouse.connect(env, read_only=True) as con:
        frame = actions.list_actions(env, con)
    assert len(frame) == 2  # the CLI-added action and the sheet's first row are the same action
    assert frame["verdict"].notna().all()
    themes = cli("action", "list", "--themes")
    assert "Car parking" in themes.output
    removed = cli("action", "remove", frame["action_id"].iloc[-1])  # the triage nurse (oldest)
    assert removed.exit_code == 0
    out = tmp_path / "out"
    report = cli("report", "--period", "2026-10", "--out", str(out), "--resolution-target", "30")
    assert report.exit_code == 0, report.output
    assert (out / "trend-pack-2026-10.html").is_file()
    page = (out / "trend-pack-2026-10.html").read_text(encoding="utf-8")
    assert "Overflow car park" in page and "Evening triage nurse" not in page
    with warehouse.connect(env, read_only=True) as con:
        assert con.execute(
            "select value from ops.report_settings where key = 'resolution_target_working_days'"
        ).fetchone() == ("30",)
    assert cli("report", "--period", "2026-13").exit_code != 0


def test_cli_without_a_warehouse_says_what_to_do(tmp_path, monkeypatch, cli):
    monkeypatch.setenv("FEEDBACK_WAREHOUSE", str(tmp_path / "none.duckdb"))
    result = cli("action", "list")
    assert result.exit_code == 1 and "feedback run" in result.output
