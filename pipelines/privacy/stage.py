"""Privacy stage: redact PHI in new or changed records before anything else reads their text.

Incremental: a record is (re)redacted only when it is new, its content changed (``record_hash``)
or the recognizer set changed (``Redactor.version``).

Partitioned (:mod:`pipelines.partitions`): :func:`plan_redaction` writes the pending records to
Parquet partitions, :func:`redact_partition` redacts one of them anywhere (a process of
``feedback run --workers``, an Airflow worker), :func:`load_redactions` upserts the results.
:func:`redact_pending` does all three in this process.
"""

from __future__ import annotations

import json
import logging
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from pipelines import partitions, warehouse
from pipelines.config import Settings

log = logging.getLogger(__name__)

STEP = "redact"
WORK = "pipelines.privacy.stage:redact_partition"
# Redactors built in this process, by (allow-list, person mode): planning builds one to learn its
# version, and the partitions computed in the same process reuse it.
_REDACTORS: dict[tuple[Any, ...], Any] = {}


def _stamp() -> tuple[tuple[str, int], ...]:
    """When the recognizers and the names model last changed.

    A long-lived worker process (a Celery prefork child) then builds a new redactor after a
    deployment instead of keeping the old one.
    """
    from pipelines.privacy.namemodel import DEFAULT_BUILD_DIR
    from pipelines.privacy.redactor import DEFAULT_CONFIG_PATH

    files = [Path(DEFAULT_CONFIG_PATH), *sorted(Path(DEFAULT_BUILD_DIR).glob("*.json"))]
    return tuple((str(f), f.stat().st_mtime_ns) for f in files if f.is_file())


def redactor_for(settings: Settings, allow: list[str]) -> Any:
    """The redactor with ``allow`` (site and service names) on its allow-list (built once per process).

    Raises:
        NamesModelMissing: if the names model is needed and not built (``make privacy-model``).
    """
    from pipelines.privacy.redactor import Redactor  # presidio/spaCy load lazily

    key = (id(Redactor), tuple(sorted(set(allow))), str(settings.privacy_person), _stamp())
    if key not in _REDACTORS:
        # "union" (rules + names model) unless the settings allow rules only; a missing model is an error.
        _REDACTORS[key] = Redactor(allow_list=list(key[1]), person=settings.privacy_person)
    return _REDACTORS[key]


def plan_redaction(
    settings: Settings, con: duckdb.DuckDBPyConnection, run_id: str, count: int
) -> tuple[list[partitions.Partition], dict[str, Any]]:
    """Write the records to (re)redact into ``count`` partitions (by feedback id).

    Site and service names in ``raw.feedback`` join the allow-list, so they are never redacted.

    Returns:
        The partitions (none when nothing is pending) and ``{"redactor_version", "redactor"}``.
    """
    allow = [r[0] for r in warehouse.run_sql(con, settings, "queries/privacy/allow_list").fetchall()]
    redactor = redactor_for(settings, allow)
    pending = warehouse.run_sql(con, settings, "queries/privacy/pending_redaction", {"version": redactor.version}).df()
    params = {"allow": sorted(set(allow)), "redactor_version": redactor.version}
    parts = partitions.plan(settings, run_id, STEP, pending, "feedback_id", count, params)
    return parts, {"redactor_version": redactor.version, "redactor": redactor.describe()}


def redact_partition(settings: Settings, part: partitions.Partition, progress: bool = False) -> None:
    """Redact one partition's records and write its output (needs no warehouse).

    Raises:
        PartitionError: if the partition's input is gone.
        RuntimeError: if this machine's recognizers differ from the planner's (another code or
            model version): the output would not match the version recorded with it.
    """
    started = time.perf_counter()
    pending = partitions.read_input(settings, part)
    params = part.params
    redactor = redactor_for(settings, params["allow"])
    if redactor.version != params["redactor_version"]:
        raise RuntimeError(
            f"{part.label}: this worker's redactor is {redactor.version}, the plan's {params['redactor_version']} "
            "(deploy the same code and names model to every worker)"
        )
    results = redactor.redact_many(pending["text"].tolist(), progress=progress)
    frame = pd.DataFrame(
        {
            "feedback_id": pending["feedback_id"],
            "record_hash": pending["record_hash"],
            "text_redacted": [r.text for r in results],
            "entity_counts": [
                json.dumps(dict(sorted(Counter(s.entity_type for s in r.spans).items()))) for r in results
            ],
            "redactor_version": redactor.version,
            "redacted_at": datetime.now(UTC),
        }
    )
    partitions.write_outputs(settings, part, {"redactions": frame}, time.perf_counter() - started)


def load_redactions(settings: Settings, con: duckdb.DuckDBPyConnection, parts: list[partitions.Partition]) -> int:
    """Upsert every partition's redactions (idempotent: keyed by feedback id); returns the rows loaded.

    Raises:
        PartitionError: if a partition did not finish (nothing is loaded).
    """
    if not parts:
        return 0
    frame = partitions.read_outputs(settings, parts, "redactions")
    if frame.empty:
        return 0
    with warehouse.registered(con, incoming_redactions=frame):
        warehouse.run_sql(con, settings, "queries/privacy/upsert_redactions")
    entities: Counter[str] = Counter()
    for counts in frame["entity_counts"]:
        entities.update(json.loads(counts))
    log.info("redacted %d texts; entities found: %s", len(frame), dict(entities))
    return len(frame)


def redact_pending(
    settings: Settings, con: duckdb.DuckDBPyConnection, progress: bool = False, run_id: str = "local", workers: int = 1
) -> dict:
    """Redact every record whose text is new/changed or was redacted by an older recognizer set.

    PERSON is found by rules plus the names model (``settings.privacy_person``, default
    ``"union"``; ``"rules"`` needs no model). With ``workers > 1`` the partitions are redacted
    in that many processes.

    Raises:
        NamesModelMissing: if the names model is needed and not built (``make privacy-model``).

    Returns:
        ``{"redacted": n, "redactor_version": ...}``, plus ``"redactor"`` (its audit record,
        :meth:`Redactor.describe`) and ``"partitions"`` when anything was redacted.
    """
    parts, versions = plan_redaction(settings, con, run_id, max(1, workers))
    if not parts:
        return {"redacted": 0, "redactor_version": versions["redactor_version"]}
    try:  # in this process (the planner's redactor) or in ``workers`` processes
        partitions.run(settings, parts, WORK, workers=workers, progress=progress)
        redacted = load_redactions(settings, con, parts)
        summary = {"redacted": redacted, **versions, "partitions": partitions.stats(parts)}
    finally:
        partitions.clear(settings, run_id, STEP)
    return summary
