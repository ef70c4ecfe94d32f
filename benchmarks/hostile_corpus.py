"""Run the hostile-input corpus (tests/fixtures/hostile/) through the real ingest stage and check it.

``tests/unit/test_hostile_inputs.py`` (one test per manifest entry) and ``benchmarks/reliability.py``
(the ``make reliability`` table) share this module, so both judge a file the same way:

- :func:`prepare_files` copies the corpus to a work folder and writes every byte-exact file
  from ``make_files.py`` (including the git-ignored 5 MiB one);
- :func:`run_corpus` writes each entry's ``source_yaml`` as a source config and runs
  :func:`pipelines.stages.ingest_stage` once over all of them on a throw-away warehouse;
- :func:`check_entry` lists every way the warehouse differs from the entry's ``expected``;
- :func:`tally` counts rows read, lost and duplicated, and :func:`leaked_identifiers` looks for
  the corpus's planted identifier in ``raw.feedback``.
"""

from __future__ import annotations

import importlib.util
import math
import re
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import yaml

from pipelines.config import Settings

ROOT = Path(__file__).resolve().parents[1]
HOSTILE_DIR = ROOT / "tests" / "fixtures" / "hostile"

# C0 controls a person never means in a comment, an id or a site name; tab, LF and CR are line
# layout (the manifest stores some CRs verbatim), so they are allowed.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
# "line N" (CSV/JSON Lines), "row N" (spreadsheet), "entry N" (FHIR Bundle): raw.quarantine.row_number.
POSITION = re.compile(r"^(?:line|row|entry) (\d+)$")
# Words a clear error must contain, from the notes of each "fails with a clear error" entry.
CLEAR_ERROR: dict[str, tuple[str, ...]] = {
    "bom_only_fft.csv": (r"empty|no header",),
    "delim_tab_wrong_config_fft.tsv": (r"single column|delimiter",),
    "missing_required_column_fft.csv": ("Date Submitted", "Date Submited"),
    "missing_id_column_complaints.csv": ("complaint_ref",),
    "really_csv_fft.xlsx": (r"workbook",),
    "truncated_fft.xlsx": (r"workbook|truncated",),
    "bundle_truncated_fhir.json": (r"truncated",),
}
# The corpus's planted identifiers (an NHS number in an unmapped column): never stored.
PLANTED = {"nhs_number": ("943 476 5919", "9434765919")}


def load_manifest() -> list[dict[str, Any]]:
    """The manifest's entries, one per data file."""
    return yaml.safe_load((HOSTILE_DIR / "manifest.yaml").read_text(encoding="utf-8"))["files"]


def prepare_files(target: Path) -> list[str]:
    """Copy the corpus into ``target`` and write every file ``make_files.py`` makes (the 5 MiB one too).

    Returns:
        The committed files whose bytes differ from what ``make_files.py`` writes (an editor
        "fixed" them); they are overwritten in ``target`` with the exact bytes.
    """
    shutil.copytree(HOSTILE_DIR, target, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__"))
    spec = importlib.util.spec_from_file_location("hostile_make_files", HOSTILE_DIR / "make_files.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    differ = []
    for name, data in module.FILES.items():
        committed = HOSTILE_DIR / name
        if name not in module.GENERATED_ONLY and (not committed.exists() or committed.read_bytes() != data):
            differ.append(name)
        (target / name).write_bytes(data)
    return differ


@dataclass
class CorpusRun:
    """What one ingest of the whole corpus left in its warehouse."""

    settings: Settings
    error: str | None  # the IngestError message naming the sources that failed
    crash: str | None  # any other exception escaping ingest_stage (a bug)
    feedback: pd.DataFrame
    quarantine: pd.DataFrame
    batches: pd.DataFrame
    seconds: float
    entries: list[dict[str, Any]] = field(default_factory=list)


def corpus_settings(work: Path, data_dir: Path) -> Settings:
    """Settings with a throw-away warehouse, sources folder and GX context under ``work``."""
    for sub in ("sources", "gx", "reports"):
        (work / sub).mkdir(parents=True, exist_ok=True)
    return Settings.from_env(
        {
            "FEEDBACK_HOME": str(ROOT),
            "FEEDBACK_DATA_DIR": str(data_dir),
            "FEEDBACK_WAREHOUSE": str(work / "warehouse.duckdb"),
            "FEEDBACK_REPORTS_DIR": str(work / "reports"),
            "FEEDBACK_SOURCES_DIR": str(work / "sources"),
            "FEEDBACK_GX_DIR": str(work / "gx"),
        }
    )


def run_corpus(work: Path, data_dir: Path | None = None) -> CorpusRun:
    """Ingest every manifest entry (one source each; the two copies of one export share a source).

    Args:
        work: an empty folder for the warehouse, source configs and GX context.
        data_dir: the corpus folder (default: a fresh copy in ``work/files`` made by :func:`prepare_files`).
    """
    from pipelines import stages
    from pipelines.ingest.load import IngestError

    if data_dir is None:
        data_dir = work / "files"
        prepare_files(data_dir)
    settings = corpus_settings(work, data_dir)
    entries = load_manifest()
    for entry in entries:
        stanza = entry["source_yaml"]
        path = settings.sources_dir / f"{stanza['name']}.yaml"
        path.write_text(yaml.safe_dump(stanza, allow_unicode=True, sort_keys=False), encoding="utf-8")
    error = crash = None
    started = time.perf_counter()
    try:
        stages.ingest_stage(settings, stages.new_run_id())
    except IngestError as exc:
        error = str(exc)
    except Exception as exc:  # reported by every check: a crash is a finding, not a test error
        crash = f"{type(exc).__name__}: {exc}"
    seconds = time.perf_counter() - started
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        frames = [
            con.execute(f"select * from {t}").df() for t in ("raw.feedback", "raw.quarantine", "raw.ingest_batches")
        ]
    return CorpusRun(settings, error, crash, *frames, seconds=seconds, entries=entries)


def _rows_for(frame: pd.DataFrame, key: str) -> pd.DataFrame:
    """The records of a record id ("SM-1#what_was_good"), else of a response id ("SM-1")."""
    rows = frame[frame["source_record_id"] == key]
    return rows if len(rows) else frame[frame["response_id"] == key]


def _same(got: Any, want: Any) -> bool:
    if want is None:
        return got is None or pd.isna(got)
    if got is None or pd.isna(got):
        return False
    if isinstance(want, float | int) and not isinstance(want, bool):
        return math.isclose(float(got), float(want), abs_tol=1e-9)
    if isinstance(got, pd.Timestamp):
        return got == pd.Timestamp(want)
    return got == want


def _check_values(fed: pd.DataFrame, expected: dict[str, Any]) -> list[str]:
    """Stored values the entry names (text, site, service, ratings, dates, status), key by key."""
    columns = {
        "text": "text",
        "site": "site",
        "service": "service",
        "rating_value": "rating_value",
        "nps": "nps",
        "received_at_utc": "received_at",
        "complaint_status": "complaint_status",
    }
    problems = []
    for field_, column in columns.items():
        for key, want in (expected.get(field_) or {}).items():
            rows = _rows_for(fed, str(key))
            if rows.empty:
                problems.append(f"{field_}[{key}]: no loaded record")
                continue
            got = [None if pd.isna(v) else v for v in rows[column]]
            if not all(_same(v, want) for v in got):
                problems.append(f"{field_}[{key}]: expected {want!r}, stored {got!r}")
    return problems


def _check_fails(
    run: CorpusRun, entry: dict[str, Any], batches: pd.DataFrame, fed: pd.DataFrame, quar: pd.DataFrame
) -> list[str]:
    """A file that must fail: one failed batch with a clear message, nothing loaded or quarantined."""
    name, file = entry["source_yaml"]["name"], entry["file"]
    problems = []
    failed = batches[batches["status"] == "failed"]
    if failed.empty:
        got = batches[["status", "rows_read", "rows_loaded", "rows_quarantined"]].to_dict("records")
        problems.append(f"expected a failed batch, got {got or 'no batch at all'}")
    for message in failed["message"].fillna(""):
        if "Traceback" in message or not message.strip():
            problems.append(f"failure message is not a plain sentence: {message[:300]!r}")
        for pattern in CLEAR_ERROR.get(file, ()):
            if not re.search(pattern, message, flags=re.IGNORECASE):
                problems.append(f"failure message lacks {pattern!r}: {message[:300]!r}")
    if failed["file_checksum"].notna().any():
        problems.append("a failed batch recorded the file's checksum: the file would not be read again")
    if run.error is None or name not in run.error:
        problems.append("the run did not report this source as failed")
    if len(fed) or len(quar):
        problems.append(f"{len(fed)} record(s) loaded and {len(quar)} row(s) quarantined from a file that must fail")
    return problems


def _quarantined(quar: pd.DataFrame, ref: str) -> pd.DataFrame:
    position = POSITION.match(ref)
    if position:
        return quar[quar["row_number"] == int(position.group(1))]
    return quar[quar["source_record_id"] == ref]


def _check_loads(
    run: CorpusRun, entry: dict[str, Any], batches: pd.DataFrame, fed: pd.DataFrame, quar: pd.DataFrame
) -> list[str]:
    """A file that must load: successful batches whose counts and rows match the manifest."""
    name, exp = entry["source_yaml"]["name"], entry["expected"]
    problems = []
    if batches.empty:
        problems.append("no batch recorded (the file left no trace)")
    elif not batches["status"].eq("success").all():
        problems.append(f"batch status {batches[['status', 'message']].to_dict('records')}")
    if run.error is not None and re.search(rf"(^|; ){re.escape(name)}:", run.error):
        problems.append(f"the run reported this source as failed: {_error_of(run.error, name)}")
    counts = {
        "rows_loaded": len(exp["must_load"]),
        "rows_quarantined": len(exp["must_quarantine"]),
        "rows_duplicate": len(exp.get("duplicates") or {}),
        "rows_skipped": len(exp.get("skipped") or {}),
    }
    got = {k: int(batches[k].fillna(0).sum()) for k in counts}
    if got != counts:
        problems.append(f"counts {got} != expected {counts}")
    loaded = set(fed["response_id"].dropna())
    want = {str(i) for i in exp["must_load"]}
    if missing := sorted(want - loaded):
        problems.append(f"not loaded: {missing}")
    if extra := sorted(loaded - want):
        problems.append(f"loaded but not expected to: {extra}")
    for ref, why in (exp["must_quarantine"] or {}).items():
        rows = _quarantined(quar, str(ref))
        if rows.empty:
            problems.append(f"not quarantined: {ref} ({why})")
        elif not (rows["reason"].fillna("").str.strip().ne("").all() and rows["failed_check"].notna().all()):
            problems.append(f"quarantined without a reason: {ref}")
    for ref in (exp.get("duplicates") or {}) | (exp.get("skipped") or {}):
        if not _quarantined(quar, str(ref)).empty:
            problems.append(f"{ref} is a duplicate / skipped row but was quarantined")
    stored = set(fed["response_id"].dropna()) | set(fed["source_record_id"].dropna())
    if leaked := sorted(str(i) for i in exp.get("must_not_load") or [] if str(i) in stored):
        problems.append(f"must not load, but stored: {leaked}")
    if "records" in exp and set(fed["source_record_id"]) != set(exp["records"]):
        problems.append(f"records {sorted(fed['source_record_id'])} != {sorted(exp['records'])}")
    return problems + _check_values(fed, exp)


def _error_of(error: str, name: str) -> str:
    part = [p for p in error.split("; ") if p.startswith(f"{name}:")]
    return part[0][:300] if part else error[:300]


def check_entry(run: CorpusRun, entry: dict[str, Any]) -> list[str]:
    """Every way the warehouse differs from what the entry's ``expected`` says (empty: all good)."""
    name = entry["source_yaml"]["name"]
    problems = [f"ingest_stage crashed: {run.crash}"] if run.crash else []
    batches = run.batches[run.batches["source"] == name]
    fed = run.feedback[run.feedback["source"] == name]
    quar = run.quarantine[run.quarantine["source"] == name]
    for batch in batches.itertuples():
        accounted = sum(
            int(getattr(batch, c) or 0) for c in ("rows_loaded", "rows_quarantined", "rows_duplicate", "rows_skipped")
        )
        if int(batch.rows_read or 0) != accounted:
            problems.append(f"batch {batch.batch_id}: read {batch.rows_read} != accounted {accounted}")
    if entry["expected"]["file_level"] == "loads":
        problems += _check_loads(run, entry, batches, fed, quar)
    else:
        problems += _check_fails(run, entry, batches, fed, quar)
    for column in fed.select_dtypes(include=["object", "string"]).columns:
        bad = fed[column].dropna().astype(str).map(lambda v: bool(CONTROL.search(v)))
        if bad.any():
            problems.append(
                f"control character in raw.feedback.{column} of {list(fed.loc[bad[bad].index, 'source_record_id'])}"
            )
    return problems


@dataclass
class Tally:
    """Rows of the corpus as the reliability table counts them."""

    files: int = 0
    files_ok: int = 0
    rows_read: int = 0
    rows_lost: int = 0
    rows_duplicated: int = 0
    failures: dict[str, list[str]] = field(default_factory=dict)


def tally(run: CorpusRun) -> Tally:
    """Files passing every check, rows read, rows lost (in no table) and rows stored twice.

    Rows lost: rows the manifest accounts for (to load, quarantine, count as duplicate or skip)
    minus the rows the file's batches account for, when positive; a file that must fail is
    retried next run, so its rows are lost only when its failure left no batch at all. Rows
    duplicated: one response loaded by two batches (the same export delivered twice), or a row
    the manifest quarantines by id that was loaded as well.
    """
    out = Tally(rows_read=int(run.batches["rows_read"].fillna(0).sum()))
    for entry in run.entries:
        out.files += 1
        problems = check_entry(run, entry)
        if problems:
            out.failures[entry["file"]] = problems
        else:
            out.files_ok += 1
    accounted_columns = ["rows_loaded", "rows_quarantined", "rows_duplicate", "rows_skipped"]
    for name in dict.fromkeys(e["source_yaml"]["name"] for e in run.entries):
        exp = next(e for e in run.entries if e["source_yaml"]["name"] == name)["expected"]
        batches = run.batches[run.batches["source"] == name]
        if exp["file_level"] != "loads":
            out.rows_lost += 0 if len(batches) else int(exp["rows_in_file"])
            continue
        expected = sum(len(exp.get(k) or {}) for k in ("must_load", "must_quarantine", "duplicates", "skipped"))
        accounted = int(batches[accounted_columns].fillna(0).to_numpy().sum())
        out.rows_lost += max(0, expected - accounted)
        loaded = set(run.feedback.loc[run.feedback["source"] == name, "response_id"].dropna())
        quar = run.quarantine[run.quarantine["source"] == name]
        out.rows_duplicated += max(0, int(batches["rows_loaded"].fillna(0).sum()) - len(loaded))
        out.rows_duplicated += sum(
            1 for ref in exp["must_quarantine"] if str(ref) in loaded and not _quarantined(quar, str(ref)).empty
        )
    return out


def leaked_identifiers(run: CorpusRun) -> dict[str, int]:
    """How many planted identifiers of the corpus reached ``raw.feedback``, by kind."""
    cells = run.feedback.select_dtypes(include=["object", "string"]).to_numpy().ravel()
    blob = "\n".join(str(v) for v in cells if isinstance(v, str))
    return {kind: sum(blob.count(v) for v in values) for kind, values in PLANTED.items()}
