"""Privacy stage: redact PHI in new or changed records before anything else reads their text.

Incremental: a record is (re)redacted only when it is new, its content changed (``record_hash``)
or the recognizer set changed (``Redactor.version``).
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from datetime import UTC, datetime

import duckdb
import pandas as pd

from pipelines import warehouse
from pipelines.config import Settings

log = logging.getLogger(__name__)


def redact_pending(settings: Settings, con: duckdb.DuckDBPyConnection, progress: bool = False) -> dict:
    """Redact every record whose text is new/changed or was redacted by an older recognizer set.

    Site and service names in ``raw.feedback`` join the allow-list, so they are never redacted.
    PERSON is found by rules plus the names model (``settings.privacy_person``, default
    ``"union"``; ``"rules"`` needs no model).

    Raises:
        NamesModelMissing: if the names model is needed and not built (``make privacy-model``).

    Returns:
        ``{"redacted": n, "redactor_version": ...}``, plus ``"redactor"`` (its audit record,
        :meth:`Redactor.describe`) when anything was redacted.
    """
    from pipelines.privacy.redactor import Redactor  # presidio/spaCy load lazily

    allow = [r[0] for r in warehouse.run_sql(con, settings, "queries/privacy/allow_list").fetchall()]
    # "union" (rules + names model) unless the settings allow rules only; a missing model is an error.
    redactor = Redactor(allow_list=allow, person=settings.privacy_person)
    pending = warehouse.run_sql(con, settings, "queries/privacy/pending_redaction", {"version": redactor.version}).df()
    if pending.empty:
        return {"redacted": 0, "redactor_version": redactor.version}
    results = redactor.redact_many(pending["text"].tolist(), progress=progress)
    now = datetime.now(UTC)
    frame = pd.DataFrame(
        {
            "feedback_id": pending["feedback_id"],
            "record_hash": pending["record_hash"],
            "text_redacted": [r.text for r in results],
            "entity_counts": [
                json.dumps(dict(sorted(Counter(s.entity_type for s in r.spans).items()))) for r in results
            ],
            "redactor_version": redactor.version,
            "redacted_at": now,
        }
    )
    with warehouse.registered(con, incoming_redactions=frame):
        warehouse.run_sql(con, settings, "queries/privacy/upsert_redactions")
    entities: Counter[str] = Counter()
    for r in results:
        entities.update(s.entity_type for s in r.spans)
    log.info("redacted %d texts; entities found: %s", len(frame), dict(entities))
    return {"redacted": len(frame), "redactor_version": redactor.version, "redactor": redactor.describe()}
