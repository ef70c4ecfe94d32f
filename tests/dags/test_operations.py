"""Airflow operations in the DAGs: retry policy, timeouts, failure alerts, backfill window, asset metadata."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

import pytest

from tests.conftest import ROOT


@pytest.fixture(scope="module")
def common(airflow_home):
    import _common

    return _common


@pytest.fixture(scope="module")
def dagbag(airflow_home):
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(ROOT / "dags"))


def _raised(exc: BaseException, cause: BaseException | None = None) -> BaseException:
    """``exc`` as it arrives after ``raise exc from cause`` (with its cause chained)."""
    try:
        try:
            if cause is not None:
                raise cause
        except BaseException as inner:
            raise exc from inner
        raise exc
    except BaseException as caught:
        return caught


def _data_and_config_errors() -> list[BaseException]:
    from pipelines.ingest.load import IngestError, QuarantineThresholdExceeded, ReconciliationError
    from pipelines.insights.config import InsightsError
    from pipelines.privacy.namemodel import NamesModelMissing
    from pipelines.sentiment.base import SentimentModelError
    from pipelines.sources.types import SourceError
    from pipelines.themes.model import ThemesError
    from pipelines.warehouse import WarehouseError

    return [
        SourceError("source demo_fft: no column 'rating'"),
        IngestError("source demo_fft: cannot read the file", []),
        QuarantineThresholdExceeded("source demo_fft: 40% quarantined"),
        ReconciliationError("rows do not add up"),
        WarehouseError("warehouse.duckdb is an encrypted warehouse: set FEEDBACK_ENCRYPTION_KEY"),
        ThemesError("taxonomy file not found"),
        SentimentModelError("FEEDBACK_SENTIMENT_MODEL='x': no such model directory"),
        NamesModelMissing("names model not built"),
        InsightsError("unknown driver outcome"),
        KeyError("a bug: retrying cannot fix it"),
    ]


def test_data_config_and_unknown_errors_fail_without_retry(common):
    from airflow.sdk import RetryAction

    policy = common.TransientOnly()
    for exc in _data_and_config_errors():
        decision = policy.evaluate(_raised(exc), try_number=1, max_tries=3)
        assert decision.action is RetryAction.FAIL, type(exc).__name__
        assert type(exc).__name__ in decision.reason


def test_transient_errors_are_retried_including_behind_a_pipeline_error(common):
    import sqlalchemy.exc
    from airflow.sdk import RetryAction
    from airflow.sdk.exceptions import AirflowTaskTimeout

    from pipelines.sources.types import SourceError
    from pipelines.warehouse import WarehouseBusy, WarehouseError

    policy = common.TransientOnly()
    unreachable = sqlalchemy.exc.OperationalError("select 1", {}, Exception("connection refused"))
    transient = [
        WarehouseBusy("another run holds the warehouse"),
        WarehouseError("warehouse.duckdb is open for writing by another process (DuckDB allows one writer)."),
        ConnectionResetError("reset by peer"),
        AirflowTaskTimeout("execution_timeout"),
        _raised(SourceError("source complaints: database error: OperationalError"), cause=unreachable),
    ]
    for exc in transient:
        decision = policy.evaluate(exc, try_number=1, max_tries=3)
        assert decision.action is RetryAction.RETRY, repr(exc)


def test_every_task_has_a_timeout_the_retry_policy_and_the_failure_alert(dagbag, common):
    for dag_id, dag in dagbag.dags.items():
        for task in dag.tasks:
            assert isinstance(task.retry_policy, common.TransientOnly), (dag_id, task.task_id)
            assert task.execution_timeout == common.TIMEOUTS[task.task_id], (dag_id, task.task_id)
            callbacks = task.on_failure_callback
            assert common.notify_failure in (callbacks if isinstance(callbacks, list) else [callbacks]), task.task_id


def test_mapped_ingest_tasks_are_named_after_their_source(dagbag):
    task = dagbag.dags["feedback_ingest"].get_task("ingest_source")
    assert task.map_index_template == "{{ task.op_kwargs['source'] }}"


def test_mapped_partition_tasks_are_named_after_their_partition(dagbag, common):
    import jinja2

    from pipelines.partitions import Partition

    for dag_id, task_id in (("feedback_enrich", "redact"), ("feedback_enrich", "score"), ("feedback_themes", "embed")):
        task = dagbag.dags[dag_id].get_task(task_id)
        assert task.map_index_template == common.PARTITION_NAME, task_id
    part = Partition("redact", "run", 2, 4, 1234, "/tmp/x")
    op = type("Op", (), {"op_kwargs": {"part": part.as_dict()}})
    assert jinja2.Template(common.PARTITION_NAME).render(task=op) == "redact 3/4 (1234 rows)"


def test_backfill_window_params(dagbag, common):
    params = dagbag.dags["feedback_ingest"].params
    assert params["start"] is None and params["end"] is None
    assert common.data_window({"start": "2026-01-01", "end": "2026-01-31"}) == (date(2026, 1, 1), date(2026, 1, 31))
    assert common.data_window({}) == (None, None)
    with pytest.raises(ValueError, match="after end"):
        common.data_window({"start": "2026-02-01", "end": "2026-01-31"})
    with pytest.raises(ValueError, match="YYYY-MM-DD"):
        common.data_window({"start": "January"})


def test_a_window_reaches_a_stage_that_takes_it_and_fails_fast_on_one_that_does_not(common):
    def windowed(settings, run_id, start=None, end=None):  # noqa: ANN001, ANN202
        return {"start": start, "end": end}

    def unwindowed(settings, run_id):  # noqa: ANN001, ANN202
        return {}

    window = (date(2026, 1, 1), date(2026, 1, 31))
    assert common.call_stage(windowed, None, "r", window=window) == {"start": window[0], "end": window[1]}
    assert common.call_stage(unwindowed, None, "r", window=(None, None)) == {}
    with pytest.raises(ValueError, match="no start/end window"):
        common.call_stage(unwindowed, None, "r", window=window)


def test_asset_metadata_keeps_counts_window_and_versions_only(common):
    summary = {
        "rows_in": 10,
        "rows_out": 9,
        "data_from": date(2026, 1, 1),
        "sentiment_model_version": "sent-1",
        "redactor": {"recognizers": ["x"]},
        "batches": [{"source": "a"}],
    }
    assert common.asset_extra(summary, period="2026-01") == {
        "rows_in": 10,
        "rows_out": 9,
        "data_from": "2026-01-01",
        "sentiment_model_version": "sent-1",
        "period": "2026-01",
    }


def test_failure_alert_names_the_task_and_never_quotes_other_errors(common):
    ti = SimpleNamespace(dag_id="feedback_enrich", task_id="enrich", map_index=-1, try_number=2, log_url="http://x")
    leaky = ValueError("could not convert 'my nurse Jane was rude' to INT")
    subject, body = common.failure_message({"ti": ti, "exception": leaky, "run_id": "r1"})
    assert subject == "[patient-feedback] feedback_enrich.enrich failed (try 2)"
    assert "ValueError" in body and "Jane" not in body

    from pipelines.ingest.load import QuarantineThresholdExceeded

    own = QuarantineThresholdExceeded("source demo_fft: 40% of rows quarantined")
    _, body = common.failure_message({"ti": ti, "exception": own, "run_id": "r1"})
    assert "40% of rows quarantined" in body


def test_no_alert_connection_means_no_email(common, monkeypatch):
    from airflow.sdk import BaseHook
    from airflow.sdk.exceptions import AirflowNotFoundException

    def missing(conn_id):  # noqa: ANN001, ANN202
        raise AirflowNotFoundException(conn_id)

    monkeypatch.setattr(BaseHook, "get_connection", staticmethod(missing))
    sent = []
    monkeypatch.setattr(
        "airflow.providers.smtp.notifications.smtp.SmtpNotifier.notify", lambda self, ctx: sent.append(self)
    )
    common.notify_failure({"ti": None})
    assert sent == []


def test_alert_goes_to_the_connections_recipients(common, monkeypatch):
    from airflow.sdk import BaseHook, Connection

    conn = Connection(
        conn_id=common.ALERT_CONN_ID,
        conn_type="smtp",
        host="smtp.example",
        extra='{"to": "team@example.nhs.uk", "from_email": "airflow@example.nhs.uk"}',
    )
    monkeypatch.setattr(BaseHook, "get_connection", staticmethod(lambda conn_id: conn))
    sent = []
    monkeypatch.setattr(
        "airflow.providers.smtp.notifications.smtp.SmtpNotifier.notify", lambda self, ctx: sent.append(self)
    )
    ti = SimpleNamespace(dag_id="feedback_ingest", task_id="ingest_source", map_index=1, try_number=1, log_url="")
    common.notify_failure({"ti": ti, "exception": TimeoutError(), "run_id": "r1"})
    (notifier,) = sent
    assert notifier.to == "team@example.nhs.uk" and notifier.smtp_conn_id == common.ALERT_CONN_ID
    assert notifier.subject == "[patient-feedback] feedback_ingest.ingest_source[1] failed (try 1)"


def test_report_dag_takes_a_period_or_a_window_of_whole_months(dagbag, common):
    from pipelines.periods import Period

    params = dagbag.dags["feedback_report"].params
    assert params["start"] is None and params["end"] is None and params["period"] is None
    assert common.report_period({}) is None
    assert common.report_period({"period": "2026-03"}) == Period.month(date(2026, 3, 1))
    assert common.report_period({"start": "2026-01-01", "end": "2026-03-31"}).key == "2026-Q1"
    with pytest.raises(ValueError, match="either a period or a start/end window"):
        common.report_period({"period": "2026-03", "start": "2026-03-01", "end": "2026-03-31"})
    with pytest.raises(ValueError, match="whole months"):
        common.report_period({"start": "2026-03-02", "end": "2026-03-31"})


def _sql_source(folder, name: str, extra: str) -> None:  # noqa: ANN001
    (folder / f"{name}.yaml").write_text(
        f"stream: complaint\npreset: complaints\nformat: sql\ntable: complaints\n{extra}", encoding="utf-8"
    )


def test_source_connections_resolve_through_airflow_at_run_time(common, settings, monkeypatch):
    monkeypatch.setenv("AIRFLOW_CONN_FEEDBACK_PG", "postgresql://reader:s%40cret@db.example:5433/feedback")
    _sql_source(settings.sources_dir, "pg", "connection: feedback_pg\n")
    _sql_source(settings.sources_dir, "pg_or_env", "connection: feedback_missing\nurl_env: COMPLAINTS_URL\n")
    _sql_source(settings.sources_dir, "env_only", "url_env: COMPLAINTS_URL\n")
    urls = common.source_urls(settings, ["pg", "pg_or_env", "env_only"])
    assert urls == {"feedback_pg": "postgresql+psycopg2://reader:s%40cret@db.example:5433/feedback"}

    from pipelines.sources.types import SourceError

    _sql_source(settings.sources_dir, "pg_missing", "connection: feedback_missing\n")
    with pytest.raises(
        SourceError, match="connection 'feedback_missing' is not defined .*AIRFLOW_CONN_FEEDBACK_MISSING"
    ):
        common.source_urls(settings, ["pg_missing"])
    from airflow.sdk import RetryAction

    # A missing connection is a config error: the retry policy fails it at once.
    assert common.TransientOnly().evaluate(SourceError("x"), try_number=1, max_tries=3).action is RetryAction.FAIL


def test_dag_files_import_no_pipelines_or_provider_at_top_level():
    import ast

    for path in sorted((ROOT / "dags").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, ast.Import | ast.ImportFrom):
                module = node.module if isinstance(node, ast.ImportFrom) else node.names[0].name
                assert not (module or "").startswith(("pipelines", "airflow.providers")), (path.name, module)
