"""Shared DAG settings: assets, the one-writer pool, timeouts, retry policy, alerts and backfill params.

Stdlib and airflow.sdk only at top level: this module is imported at parse time. Anything from
``pipelines`` or a provider is imported inside the functions that run in a worker.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta
from typing import Any

from airflow.sdk import Asset, Param, RetryDecision, RetryPolicy

log = logging.getLogger(__name__)

# Each DAG updates one asset; the next DAG is scheduled on it (ingest -> enrich -> themes -> report).
RAW = Asset("feedback://warehouse/raw")
ENRICHED = Asset("feedback://warehouse/enriched")
THEMED = Asset("feedback://warehouse/themed")
REPORTS = Asset("feedback://reports/all")

# DuckDB allows one writer per file: every writing task takes the single slot of this pool
# (created by docker-compose's airflow-init: `airflow pools set feedback_duckdb 1 ...`).
WRITER_POOL = "feedback_duckdb"

# Upper bounds per task, sized from the 100k-record benchmark on 2 cores with room to spare: a task
# past its bound is hung (a stuck lock, a swapping model), not slow.
TIMEOUTS = {
    "list_sources": timedelta(minutes=5),
    "ingest_source": timedelta(minutes=30),
    "build_models": timedelta(minutes=15),
    # Partitioned enrich and embedding: planning and loading hold the warehouse; one partition
    # (1/FEEDBACK_PARTITIONS of the new records) computes without it.
    "plan_redaction": timedelta(minutes=20),
    "redact": timedelta(minutes=45),
    "plan_scoring": timedelta(minutes=20),
    "score": timedelta(minutes=45),
    "load": timedelta(minutes=20),
    "plan_embedding": timedelta(minutes=20),
    "embed": timedelta(minutes=45),
    "load_embeddings": timedelta(minutes=20),
    "themes": timedelta(hours=1, minutes=30),
    "report": timedelta(minutes=20),
}

# Failure alerts go by e-mail through this Airflow connection (type smtp; its extra holds "to",
# and "from_email" unless the SMTP login is the sender). No connection defined: no e-mail.
ALERT_CONN_ID = "feedback_alerts_smtp"

# Errors that are worth a retry: the same call can succeed a few minutes later. Dotted names are
# matched against the exception's classes (and its causes) without importing them at parse time.
TRANSIENT = frozenset(
    {
        "pipelines.warehouse.WarehouseBusy",  # another run held the warehouse past the lock timeout
        "builtins.ConnectionError",
        "builtins.TimeoutError",
        "builtins.MemoryError",  # another heavy task on the same worker
        "sqlalchemy.exc.OperationalError",  # SQL source unreachable, connection dropped
        "sqlalchemy.exc.DisconnectionError",
        "sqlalchemy.exc.TimeoutError",
        "urllib.error.URLError",
        "airflow.sdk.exceptions.AirflowTaskTimeout",  # execution_timeout: the machine may have been busy
    }
)
# The pipeline's own data and config errors: deterministic, so a retry would fail the same way.
DATA_OR_CONFIG = frozenset(
    {
        "pipelines.sources.types.SourceError",
        "pipelines.ingest.load.IngestError",
        "pipelines.ingest.load.QuarantineThresholdExceeded",
        "pipelines.ingest.load.ReconciliationError",
        "pipelines.warehouse.WarehouseError",
        "pipelines.themes.model.ThemesError",
        "pipelines.sentiment.base.SentimentModelError",
        "pipelines.privacy.namemodel.NamesModelMissing",
        "pipelines.insights.config.InsightsError",
    }
)
# warehouse.connect reports another process's DuckDB write lock as a plain WarehouseError.
_LOCK_MESSAGE = "open for writing by another process"


def _names(exc: BaseException) -> set[str]:
    return {f"{c.__module__}.{c.__qualname__}" for c in type(exc).__mro__}


def _chain(exc: BaseException) -> list[BaseException]:
    """The exception and the causes behind it (``raise ... from``, or raised while handling)."""
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen and len(seen) < 8:
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def is_transient(exc: BaseException) -> bool:
    """True when ``exc`` or a cause behind it is an error a later retry can get past."""
    for err in _chain(exc):
        if getattr(err, "transient", False) is True or _names(err) & TRANSIENT:
            return True
        if "pipelines.warehouse.WarehouseError" in _names(err) and _LOCK_MESSAGE in str(err):
            return True
    return False


class TransientOnly(RetryPolicy):
    """Retry transient errors only: data, config and unknown errors fail at once, with the reason logged.

    Evaluated in the worker after a task fails; the task's ``retries`` still caps the attempts.
    """

    def evaluate(self, exception: BaseException, try_number: int, max_tries: int, context: Any = None) -> RetryDecision:
        """Retry when :func:`is_transient`, else fail now."""
        kind = type(exception).__name__
        if is_transient(exception):
            return RetryDecision.retry(reason=f"{kind} is transient: retrying (try {try_number} of {max_tries})")
        if _names(exception) & DATA_OR_CONFIG:
            return RetryDecision.fail(reason=f"{kind} is a data or config error: a retry would fail the same way")
        return RetryDecision.fail(reason=f"{kind} is not a known transient error: failing without retry")

    def serialize(self) -> dict[str, Any]:
        """What the serialized DAG records (the scheduler never evaluates the policy)."""
        return {"__type": "TransientOnly", "transient": sorted(TRANSIENT), "fail_fast": sorted(DATA_OR_CONFIG)}

    @classmethod
    def deserialize(cls, data: dict[str, Any]) -> TransientOnly:
        """The policy has no state: the class is the policy."""
        return cls()


def notify_failure(context: Mapping[str, Any]) -> None:
    """on_failure_callback: e-mail the failure through the ``feedback_alerts_smtp`` connection, if defined.

    The message names the DAG, task, map index, try and the exception's class (plus its message
    for the pipeline's own errors, which never quote feedback text), and links to the log.
    """
    from airflow.sdk import BaseHook
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        conn = BaseHook.get_connection(ALERT_CONN_ID)
    except AirflowNotFoundException:
        log.info("no %s connection: failure alert not sent", ALERT_CONN_ID)
        return
    extra = conn.extra_dejson
    if not extra.get("to"):
        log.warning("connection %s has no 'to' in its extra: failure alert not sent", ALERT_CONN_ID)
        return
    from airflow.providers.smtp.notifications.smtp import SmtpNotifier

    subject, body = failure_message(context)
    SmtpNotifier(
        to=extra["to"],
        from_email=extra.get("from_email"),
        smtp_conn_id=ALERT_CONN_ID,
        subject=subject,
        html_content=body,
    ).notify(context)


def failure_message(context: Mapping[str, Any]) -> tuple[str, str]:
    """Subject and HTML body of a failure alert, free of feedback text."""
    ti = context["ti"]
    exc = context.get("exception")
    reason = type(exc).__name__ if exc is not None else "unknown error"
    if exc is not None and _names(exc) & (DATA_OR_CONFIG | TRANSIENT) and str(exc):
        reason += f": {str(exc)[:500]}"  # the pipeline's own messages name sources and files, not comments
    where = f"{ti.dag_id}.{ti.task_id}" + (f"[{ti.map_index}]" if ti.map_index >= 0 else "")
    subject = f"[patient-feedback] {where} failed (try {ti.try_number})"
    body = (
        f"<p>Task <b>{where}</b> of run <code>{context.get('run_id')}</code> failed "
        f"on try {ti.try_number}.</p><p>Reason: {_escape(reason)}</p>"
        f"<p><a href='{getattr(ti, 'log_url', '')}'>Task log</a></p>"
    )
    return subject, body


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


DEFAULT_ARGS = {
    "owner": "data-team",
    "retries": 2,
    "retry_delay": timedelta(minutes=5),
    "retry_policy": TransientOnly(),
    "execution_timeout": timedelta(hours=1),
    "on_failure_callback": notify_failure,
    "pool": WRITER_POOL,
}
TAGS = ["patient-feedback"]
# Partition tasks never open the warehouse: they run in Airflow's default pool, side by side.
COMPUTE_POOL = "default_pool"
# How a mapped partition task is named in the UI (Partition.as_dict: step, index, count, rows).
PARTITION_NAME = (
    "{{ task.op_kwargs['part']['step'] }} {{ task.op_kwargs['part']['index'] + 1 }}"
    "/{{ task.op_kwargs['part']['count'] }} ({{ task.op_kwargs['part']['rows'] }} rows)"
)

# Backfill window: feedback dated start..end inclusive (ISO dates). Both empty = whatever is new.
WINDOW_PARAMS = {
    "start": Param(None, type=["null", "string"], format="date", description="First day of a backfill window."),
    "end": Param(None, type=["null", "string"], format="date", description="Last day of a backfill window."),
}


def data_window(params: Mapping[str, Any]) -> tuple[date | None, date | None]:
    """The backfill window from the ``start``/``end`` params, parsed once here.

    Raises:
        ValueError: for a date that is not ISO ``YYYY-MM-DD`` or a start after the end.
    """
    start, end = (_iso_date(params.get(k), k) for k in ("start", "end"))
    if start and end and start > end:
        raise ValueError(f"backfill window start {start} is after end {end}")
    return start, end


def _iso_date(value: Any, name: str) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ValueError(f"param {name} must be a date YYYY-MM-DD, got {value!r}") from None


def call_stage(stage: Callable[..., dict[str, Any]], *args: Any, window: tuple[Any, Any], **kwargs: Any) -> dict:
    """Call a ``pipelines.stages`` function, passing the backfill window when the stage accepts one.

    Raises:
        ValueError: when a window was asked for and the stage cannot restrict itself to it, so a
            backfill never silently processes something other than what was asked.
    """
    start, end = window
    if start is not None or end is not None:
        accepted = inspect.signature(stage).parameters
        if not {"start", "end"} <= set(accepted):
            raise ValueError(f"{stage.__name__} takes no start/end window yet: leave the params empty")
        kwargs.update(start=start, end=end)
    return stage(*args, **kwargs)


def report_period(params: Mapping[str, Any]) -> Any:
    """The report period from the params: ``period``, or a ``start``/``end`` backfill window of whole months.

    ``period`` is YYYY-MM, YYYY-Qn or last-N-months; neither given = None (the default period).

    Raises:
        ValueError: for both at once, or a window that is not whole months.
    """
    from pipelines import periods

    start, end = data_window(params)
    if start is None and end is None:
        return periods.parse_period(params["period"]) if params.get("period") else None
    if params.get("period"):
        raise ValueError("give the report either a period or a start/end window, not both")
    return periods.window_period(periods.DateWindow(start, end))


def source_urls(settings: Any, names: list[str]) -> dict[str, str]:
    """URLs of the Airflow connections that the named SQL sources use, resolved now (in the worker, at run time).

    The library never imports Airflow: it receives these as ``Settings.source_urls``. A source whose
    connection is not defined falls back to its ``url_env`` when it has one.

    Raises:
        SourceError: when a source names a connection that is not defined and has no ``url_env``.
    """
    from airflow.sdk import BaseHook
    from airflow.sdk.exceptions import AirflowNotFoundException

    from pipelines.sources.base import load_source_configs
    from pipelines.sources.sql import connection_url
    from pipelines.sources.types import SourceError

    urls: dict[str, str] = {}
    for config in load_source_configs(settings.sources_dir, names):
        if not config.connection or config.connection in urls:
            continue
        try:
            conn = BaseHook.get_connection(config.connection)
        except AirflowNotFoundException:
            if config.url_env:
                log.info(
                    "source %s: no Airflow connection %s, using %s", config.name, config.connection, config.url_env
                )
                continue
            raise SourceError(
                f"source {config.name}: Airflow connection {config.connection!r} is not defined "
                f"(airflow connections add {config.connection} ..., or AIRFLOW_CONN_{config.connection.upper()})"
            ) from None
        urls[config.connection] = connection_url(
            conn.conn_type, conn.host, conn.login, conn.password, conn.port, conn.schema, conn.extra_dejson
        )
        log.info("source %s: URL from Airflow connection %s", config.name, config.connection)
    return urls


def asset_extra(summary: Mapping[str, Any], **more: Any) -> dict[str, Any]:
    """Asset-event metadata from a stage summary: row counts, data window and model versions (JSON-safe)."""
    keep = {"rows_in", "rows_out", "data_from", "data_to", "clauses", "themed", "refitted"}
    extra = {k: v for k, v in summary.items() if k in keep or k.endswith("_version")}
    extra.update(more)
    return {k: v if isinstance(v, (int, float, bool, str, type(None))) else str(v) for k, v in extra.items()}
