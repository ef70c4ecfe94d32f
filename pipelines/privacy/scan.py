"""The last look before a file leaves: a fast privacy scan of what an export is about to write.

Reports and exports are built from ``reporting`` views, which carry redacted text only. This
module is the second line behind that rule: every CSV, XLSX and HTML file the report stage
writes is scanned, cell by cell, just before it is written, with the recognizers of the
redactor itself (``models/privacy/recognizers.yaml``):

* NHS numbers (mod-11 check digit), hospital numbers, UK/US phones, e-mails, UK postcodes, US
  ZIP codes and street addresses (the redactor's regexes and Presidio's own recognizers, exactly
  as configured; URLs are not looked for: pages may link documentation);
* dates of birth: a full date *after a birth cue* ("DOB 12/03/1985", "born 3 March 1961"). The
  redactor removes every full date from comments, so a date left in an export is a column of
  dates (a month, a run time); only a cued date is a birth date;
* person names, by the redactor's rules (:class:`~pipelines.privacy.person.PersonFinder`: titles,
  relations, roles, name lists), with the same allow-list (site and service names). The names
  model is not run here: on a 10,000-row comments export it would take ~23 CPU s against 2.3 CPU s
  for the whole scan (``python -m benchmarks.export_scan``; docs/reports.md, "Safety").

A hit blocks the file (:class:`pipelines.exports.ExportBlocked`); what is recorded is where and
what (file, column, kind, count), never the value.

**Texts found clean are remembered** (``ops.scan_clean``: a 128-bit digest of the text and the
scanner's :func:`scanner_version`, never the text), so a report run after a small increment scans
only the texts it has not seen: on 10,000 records the three reports and the extract hold ~40,000
distinct texts, a few seconds of every run. A text with a finding is never remembered, and any
change to the recognizers, name lists, privacy code, allow-list or library versions changes the
version and starts from nothing. :class:`ExportScan` is the guard the report
stage hands to the writers (``pipelines.exports.ExportGuard``): it scans, records each blocked
file in ``ops.export_blocks`` (shown on the run-status page and by ``feedback status``), and
keeps the list so the stage can end non-zero once the other files are written.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd

from pipelines import warehouse
from pipelines.config import Settings
from pipelines.exports import Finding

log = logging.getLogger(__name__)

# Entity types the scan looks for (the redactor's names; placeholders are not matched by any).
KINDS: tuple[str, ...] = (
    "NHS_NUMBER",
    "MRN",
    "PHONE",
    "EMAIL",
    "POSTCODE",
    "STREET_ADDRESS",
    "DATE_OF_BIRTH",
    "PERSON",
)
# Machine-made tokens (hashes, run and batch ids, git shas): letters and digits run together,
# 12 characters or more. Digits inside them are not phone or NHS numbers.
_MACHINE_TOKEN = re.compile(r"(?<![\w-])(?=[0-9a-f-]*\d)(?=[0-9a-f-]*[a-f])[0-9a-f][0-9a-f-]{11,}(?![\w-])", re.I)
# Encoded blobs (base64, long ids, paths without spaces): letters and digits run together, 16+
# characters. Their letter runs are not names.
_BLOB = re.compile(r"(?=[A-Za-z0-9+/=_-]*\d)[A-Za-z0-9+/=_-]{16,}")
# File paths with an extension (a model manifest's training corpora, "models/privacy/eval/
# independentB_dev/names.jsonl"): machine tokens whose words the PERSON rules would read as names.
_PATH = re.compile(r"(?<![\w/.-])(?:[\w.-]+/)+[\w.-]+\.[A-Za-z]{2,5}(?![\w/])")
_STRUCTURED_HINT = re.compile(r"[\d@]")
# Decimal numbers with 5+ places (timings, scores in a run's JSON summary): their digits are not a phone.
_LONG_FRACTION = re.compile(r"\d*\.\d{5,}")
# Run and batch ids (``20261206T121143Z-b3d4ea``): a random hex tail can look like a postcode ("B3D 4EA").
_RUN_ID = re.compile(r"\d{8}T\d{6}Z?-[0-9a-f]{6}\b")
_CACHE_MAX = 200_000


class TextScanner:
    """Counts identifiers in texts with the redactor's recognizers (no spaCy pipeline, no model).

    Args:
        allow_list: site and service names that are never names (merged with the YAML's).
        person: also look for person names (the redactor's rules).
        config_path: recognizer YAML (default ``models/privacy/recognizers.yaml``).
    """

    def __init__(self, allow_list: Iterable[str] = (), person: bool = True, config_path: Path | None = None) -> None:
        from pipelines.privacy import engine

        #: digests of texts known clean (loaded by :class:`ExportScan` for this scanner's version)
        self.known_clean: set[str] = set()
        #: digests of texts found clean by this scanner that were not known before
        self.new_clean: set[str] = set()
        from pipelines.privacy.patterns import compile_patterns
        from pipelines.privacy.redactor import _allow_regex, load_config

        engine.import_presidio()
        from spacy.lang.en.stop_words import STOP_WORDS

        cfg, _ = load_config(config_path)
        self._threshold = float(cfg.get("score_threshold", 0.4))
        compiled = compile_patterns(cfg, STOP_WORDS)
        self._patterns = {kind: compiled[kind] for kind in KINDS if kind in compiled}
        # A date counts as a date of birth only when a birth cue raised its score above the base.
        self._date_base = {p.name: p.score for p in compiled.get("DATE_OF_BIRTH", [])}
        self._presidio = [
            (kind, engine.predefined_recognizer(kind, spec))
            for kind, spec in (cfg.get("presidio_recognizers") or {}).items()
            if kind in KINDS
        ]
        allow = {a.strip() for a in [*cfg.get("allow_list", []), *allow_list] if a and str(a).strip()}
        self._allow = _allow_regex(allow)
        self._finder = _person_finder(cfg, STOP_WORDS) if person else None
        self._cache: dict[str, Counter[str]] = {}

    def kinds(self, text: str) -> Counter[str]:
        """How many identifiers of each kind ``text`` holds (empty for clean text)."""
        found = self._cache.get(text)
        if found is None:
            key = digest(text)
            if key in self.known_clean:
                found = Counter()
            else:
                found = self._scan(text)
                if not found:
                    self.new_clean.add(key)
            if len(self._cache) < _CACHE_MAX:
                self._cache[text] = found
        return found

    def _scan(self, text: str) -> Counter[str]:
        spans: list[tuple[str, int, int, float]] = []
        if _STRUCTURED_HINT.search(text):
            work = _MACHINE_TOKEN.sub(lambda m: "x" * len(m.group()), text)
            work = _LONG_FRACTION.sub(lambda m: "x" * len(m.group()), work)
            work = _RUN_ID.sub(lambda m: "x" * len(m.group()), work)
            spans += self._structured(work)
        if self._finder is not None:
            words = text  # blobs and paths blanked to the same length: offsets hold
            for machine in (_PATH, _BLOB):
                words = machine.sub(lambda m: " " * len(m.group()), words)
            spans += [("PERSON", s, e, sc) for s, e, sc in self._finder.find(words)]
        if not spans:
            return Counter()
        blocked = [m.span() for m in self._allow.finditer(text)] if self._allow else []
        kept: list[tuple[str, int, int, float]] = []
        for span in sorted(spans, key=lambda x: (-x[3], x[1] - x[2], x[1])):
            kind, start, end, _ = span
            if any(start < be and bs < end for bs, be in blocked):
                continue
            if all(end <= k[1] or k[2] <= start for k in kept):
                kept.append(span)
        return Counter(k[0] for k in kept)

    def _structured(self, text: str) -> list[tuple[str, int, int, float]]:
        from pipelines.privacy.patterns import find_matches

        out = []
        for kind, patterns in self._patterns.items():
            for m in find_matches(text, patterns):
                if kind == "DATE_OF_BIRTH" and m.score <= self._date_base[m.pattern_name]:
                    continue  # a full date without a birth cue: a date column, not a birth date
                out.append((kind, m.start, m.end, m.score))
        for kind, recognizer in self._presidio:
            out += [
                (kind, r.start, r.end, r.score)
                for r in recognizer.analyze(text, [kind], None)
                if r.score >= self._threshold
            ]
        return out


def digest(text: str) -> str:
    """The first 128 bits of the text's sha256, in hex: how a clean text is remembered."""
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]


def scanner_version(allow_list: Iterable[str], config_path: Path | None = None) -> str:
    """Everything the scan's answer depends on: recognizer YAML, name lists, privacy code, allow-list, libraries."""
    from importlib import metadata

    from pipelines.privacy.redactor import DEFAULT_CONFIG_PATH

    config = Path(config_path or DEFAULT_CONFIG_PATH)
    h = hashlib.sha256()
    files = [config, *sorted((config.parent / "names").rglob("*")), *sorted(Path(__file__).parent.glob("*.py"))]
    for path in files:
        if path.is_file():
            h.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    for name in sorted({a.strip() for a in allow_list if a and str(a).strip()}):
        h.update(name.encode() + b"\0")
    for package in ("presidio-analyzer", "phonenumbers", "faker", "spacy"):
        try:
            h.update(f"{package}=={metadata.version(package)}".encode())
        except metadata.PackageNotFoundError:
            h.update(package.encode())
    h.update(",".join(KINDS).encode())
    return f"scan-{h.hexdigest()[:16]}"


def _person_finder(cfg: dict[str, Any], stop_words: Iterable[str]) -> Any:
    """The redactor's PERSON rules over Faker's name lists (as ``Redactor`` builds them)."""
    from faker.providers.lorem.en_US import Provider as LoremProvider

    from pipelines.privacy.names import load_name_lists
    from pipelines.privacy.person import PersonFinder

    first, last = load_name_lists(cfg)
    return PersonFinder(cfg, first, last, extra_common=[*stop_words, *LoremProvider.word_list])


def scan_cells(scanner: TextScanner, target: str, cells: Mapping[str, Iterable[Any]]) -> list[Finding]:
    """Findings (file, column, kind, count) in ``cells`` (column -> values); strings only are read."""
    findings = []
    for column, values in cells.items():
        counts: Counter[str] = Counter()
        for text, times in Counter(_texts(values)).items():  # a repeated text is looked at once
            for kind, n in scanner.kinds(text).items():
                counts[kind] += n * times
        findings += [Finding(target, str(column), kind, n) for kind, n in sorted(counts.items())]
    return findings


def _texts(values: Iterable[Any]) -> Iterator[str]:
    """The non-empty strings among ``values``, and inside list cells (theme ids and labels).

    A string holding a JSON array (a view's list of quotes) is read item by item: joined, the
    items run together into what the name rules read as a list of names.
    """
    for value in values:
        if isinstance(value, str):
            items = _json_list(value)
            if items is not None:
                yield from _texts(items)
            elif value:
                yield value
        elif isinstance(value, list | tuple) or (hasattr(value, "tolist") and getattr(value, "ndim", 0) > 0):
            yield from _texts(value.tolist() if hasattr(value, "tolist") else value)


def _json_list(value: str) -> list[Any] | None:
    if not (value.startswith("[") and value.endswith("]")):
        return None
    try:
        parsed = json.loads(value)
    except ValueError:
        return None
    return parsed if isinstance(parsed, list) else None


class ExportScan:
    """The report stage's guard: scan each file's cells, record and remember blocked files.

    Args:
        settings: where the warehouse and SQL live.
        con: the report stage's connection (blocked files go to ``ops.export_blocks``).
        run_id: the run the files belong to.
        scanner: the scanner (default: the redactor's recognizers with the warehouse's
            site and service names on the allow-list).
        root: paths are recorded relative to this folder (the reports folder).
        record: store blocked files in ``ops.export_blocks`` (False for a read-only connection:
            the caller reports :class:`~pipelines.exports.ExportBlocked` itself).
    """

    def __init__(
        self,
        settings: Settings,
        con: duckdb.DuckDBPyConnection,
        run_id: str,
        scanner: TextScanner | None = None,
        root: Path | None = None,
        record: bool = True,
    ) -> None:
        self.settings = settings
        self.con = con
        self.run_id = run_id
        self.version: str | None = None
        if scanner is None:
            allow = [r[0] for r in warehouse.run_sql(con, settings, "queries/privacy/allow_list").fetchall()]
            scanner = TextScanner(allow_list=allow)
            if record:  # texts this scanner version found clean in earlier runs are not scanned again
                self.version = scanner_version(allow)
                known = warehouse.run_sql(con, settings, "queries/privacy/scan_clean", {"version": self.version})
                scanner.known_clean = {r[0] for r in known.fetchall()}
        self.scanner = scanner
        self.root = root
        self.record = record
        self.blocked: list[Finding] = []
        self.files_scanned = 0

    def _name(self, path: Path) -> str:
        if self.root is not None:
            try:
                return str(path.resolve().relative_to(self.root.resolve()))
            except ValueError:
                pass
        return str(path)

    def check(self, path: Path, cells: Mapping[str, Iterable[Any]]) -> list[Finding]:
        """Scan what is about to be written to ``path``; record and return the findings."""
        self.files_scanned += 1
        findings = scan_cells(self.scanner, self._name(path), cells)
        if findings:
            if self.record:
                self._record(findings)
            self.blocked += findings
            log.error(
                "privacy scan held back %s: %s",
                findings[0].file,
                ", ".join(f"{f.column}: {f.kind} x{f.count}" for f in findings),
            )
        return findings

    def remember_clean(self) -> int:
        """Store the digests of texts found clean this run (none without a version); returns how many."""
        fresh = self.scanner.new_clean - self.scanner.known_clean
        if self.version is None or not fresh:
            return 0
        frame = pd.DataFrame({"text_digest": sorted(fresh)})
        with warehouse.registered(self.con, incoming_scan_clean=frame):
            params = {"version": self.version, "now": datetime.now(UTC)}
            warehouse.run_sql(self.con, self.settings, "queries/privacy/record_scan_clean", params)
        self.scanner.known_clean |= fresh
        return len(fresh)

    def _record(self, findings: list[Finding]) -> None:
        frame = pd.DataFrame(
            {
                "run_id": self.run_id,
                "file": [f.file for f in findings],
                "column_name": [f.column for f in findings],
                "kind": [f.kind for f in findings],
                "count": [f.count for f in findings],
                "blocked_at": datetime.now(UTC),
            }
        )
        with warehouse.registered(self.con, incoming_export_blocks=frame):
            warehouse.run_sql(self.con, self.settings, "queries/privacy/record_export_blocks")
