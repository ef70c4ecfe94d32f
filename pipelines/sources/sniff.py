"""Sniff an export (or a folder of same-shaped exports) into a source config, each guess with its reason.

``feedback source add PATH`` calls :func:`sniff`: it finds the files, then their format (CSV,
Excel, JSON Lines, FHIR), encoding, delimiter, header row and sheet (:mod:`pipelines.sources.sniff_shape`),
reads every row with the loader's own readers, and asks :mod:`pipelines.sources.sniff_columns`
what each column holds. :mod:`pipelines.sources.sniff_yaml` writes the result as a commented YAML.
Nothing here touches the warehouse; the dry run that follows lives with the command
(:mod:`pipelines.cli.source`), because it runs the ingest stage's validation.
"""

from __future__ import annotations

import glob
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from pipelines.sources.base import name_date, order_files
from pipelines.sources.files import read_delimited, read_jsonl, read_xlsx
from pipelines.sources.reshape import LongLayout, find_long_layout, pivot_long
from pipelines.sources.sniff_columns import Guess, Roles, assign_roles, profile
from pipelines.sources.sniff_shape import SUFFIX_FORMATS, FileShape, fhir_frame, sniff_shape
from pipelines.sources.types import SourceError, SourceRows


@dataclass
class Sniffed:
    """Everything :func:`sniff` found: the files, their shape, the mapping and what to check."""

    files: list[Path]
    path: Guess
    shape: FileShape
    roles: Roles
    rows: int
    layout: Guess
    long: LongLayout | None = None
    warnings: list[str] = field(default_factory=list)

    @property
    def stream(self) -> str:
        """Surveys only for now: suggestion boxes and complaints are configured from their templates."""
        return "survey"


def prepare_rows_wired() -> bool:
    """Whether the readers apply ``options.placeholders`` and ``options.long`` (``reshape.prepare_rows``)."""
    from pipelines.sources import readers

    return hasattr(readers, "prepare_rows")


def find_files(path: str, data_dir: Path) -> tuple[list[Path], Guess]:
    """The exports PATH names (a file, a folder or a glob) and the ``path:`` to write for them.

    A relative PATH is looked for from the current folder, then under ``data_dir``; the written
    ``path:`` is relative to ``data_dir`` when the files are under it (as the loader expects).

    Raises:
        SourceError: when PATH matches no export file.
    """
    expanded = os.path.expanduser(os.path.expandvars(path))
    bases = [Path(expanded)] if Path(expanded).is_absolute() else [Path.cwd() / expanded, data_dir / expanded]
    for base in bases:
        if any(ch in expanded for ch in "*?["):
            files = [Path(p) for p in sorted(glob.glob(str(base))) if Path(p).is_file()]
            why = f"the glob you gave ({len(files)} files now; new ones that match are picked up)"
            pattern = base
        elif base.is_dir():
            files, pattern, why = _folder(base)
        elif base.is_file():
            files, pattern = [base], base
            why = "the one file you gave (for monthly exports, point this at a glob such as exports/fft_*.csv)"
        else:
            continue
        files = [f for f in files if f.suffix.lower() in SUFFIX_FORMATS and not f.name.startswith(("~$", "."))]
        if files:
            return order_files(files), Guess(_relative(pattern, data_dir), why)
    raise SourceError(f"no export file (.csv, .xlsx, .json, .jsonl, .ndjson) at {path!r} (also looked in {data_dir})")


def _folder(folder: Path) -> tuple[list[Path], Path, str]:
    """The folder's exports of its most common type, and a glob that also matches next quarter's file."""
    files = [p for p in sorted(folder.iterdir()) if p.is_file() and p.suffix.lower() in SUFFIX_FORMATS]
    files = [p for p in files if not p.name.startswith(("~$", "."))]
    if not files:
        return [], folder, ""
    suffix = Counter(p.suffix.lower() for p in files).most_common(1)[0][0]
    files = [p for p in files if p.suffix.lower() == suffix]
    stem = name_stem(os.path.commonprefix([p.name for p in files]) if len(files) > 1 else files[0].stem)
    pattern = folder / f"{glob.escape(stem)}*{suffix}"
    return files, pattern, f"every {suffix} export in the folder named {stem or ''}* ({len(files)} now; new ones too)"


_PERIOD_WORD = re.compile(
    r"(?<=[-_ .])(?:q|h|fy|jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sept?(?:ember)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)[-_ .]*$",
    re.IGNORECASE,
)


def name_stem(name: str) -> str:
    """The part of a file name before its period (``fft_Sep-Nov_2026`` -> ``fft_``), ending at a separator."""
    stem = re.split(r"\d", name, maxsplit=1)[0]
    while (shorter := _PERIOD_WORD.sub("", stem)) != stem:
        stem = shorter
    return stem[: max(stem.rfind(c) for c in "_- .") + 1] if re.search(r"[_\- .]", stem) else ""


def _relative(pattern: Path, data_dir: Path) -> str:
    try:
        return str(pattern.resolve().relative_to(data_dir.resolve()))
    except ValueError:
        return str(pattern.resolve())


def read_rows(shape: FileShape, path: Path, labels: dict[str, str] | None = None) -> SourceRows:
    """One file's rows read as the loader will read them with ``shape`` (FHIR: linkId texts into ``labels``)."""
    if shape.format == "csv":
        return read_delimited(path, shape.delimiter.value, shape.encoding.value, shape.header_row.value)
    if shape.format == "xlsx":
        return read_xlsx(path, shape.sheet.value, shape.header_row.value)
    if shape.format == "jsonl":
        return read_jsonl(path, shape.encoding.value if shape.encoding else "auto")
    return SourceRows(fhir_frame(path, labels), name=path.name)


def sniff(path: str, data_dir: Path, timezone: str = "Europe/London") -> Sniffed:
    """Find the exports PATH names and guess their source config.

    Raises:
        SourceError: when PATH has no export, or the files cannot be read at all.
    """
    files, path_guess = find_files(path, data_dir)
    shape = sniff_shape(files)
    labels: dict[str, str] = {}
    frames, warnings = _read_all(shape, files, labels)
    frame = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    columns = [c for c in frame.columns if not str(c).startswith("_")]
    long = find_long_layout(frame[columns]) if shape.format != "fhir" else None
    layout = Guess("wide", "one row per respondent, one column per question")
    if long is not None:
        layout = Guess("long", long.why)
        frame = pivot_long(SourceRows(frame), long).frame
        columns = [c for c in frame.columns if not str(c).startswith("_")]
    profiles = [profile(c, frame[c], timezone, labels.get(c)) for c in columns]
    roles = assign_roles(profiles, frame[columns], fhir=shape.format == "fhir", title=shape.title)
    if long is not None:
        roles.fields["response_id"] = Guess(long.id_column, "the column that groups one respondent's answers")
        roles.ignored = [c for c in roles.ignored if c != long.id_column]
    warnings += roles.warnings + _order_warnings(files)
    return Sniffed(files, path_guess, shape, roles, len(frame), layout, long, warnings)


def _read_all(shape: FileShape, files: list[Path], labels: dict[str, str]) -> tuple[list[pd.DataFrame], list[str]]:
    """Every file's rows; a file whose header differs from the first is named in a warning."""
    frames, warnings = [], []
    first: list[str] | None = None
    for path in files:
        rows = read_rows(shape, path, labels)
        header = [c for c in rows.frame.columns if not c.startswith("_")]
        if first is None:
            first = header
        elif [_norm(c) for c in header] != [_norm(c) for c in first]:
            extra, missing = sorted(set(header) - set(first)), sorted(set(first) - set(header))
            warnings.append(f"{path.name}: other columns than {files[0].name} (extra {extra}, missing {missing})")
        if rows.rejects:
            warnings.append(f"{path.name}: {len(rows.rejects)} rows cannot be split into fields (quarantined)")
        frames.append(rows.frame)
    return frames, warnings


def _norm(name: str) -> str:
    return re.sub(r"\s+", "", name).casefold()


_QUARTER = re.compile(r"(?<![a-z0-9])q([1-4])(?![0-9])", re.IGNORECASE)


def file_period(path: Path) -> tuple[pd.Timestamp, pd.Timestamp] | None:
    """The months a file's name says it covers: a quarter (``2022-Q3``, ``Q3 2022``) or a month."""
    year = re.search(r"(?<!\d)((?:19|20)\d\d)(?!\d)", path.stem)
    quarter = _QUARTER.search(path.stem)
    if year and quarter:
        start = pd.Timestamp(int(year[1]), 3 * int(quarter[1]) - 2, 1)
        return start, start + pd.DateOffset(months=3)
    found = name_date(path.name)
    if found and not quarter:
        start = pd.Timestamp(found[0], found[1], 1)
        return start, start + pd.DateOffset(months=1)
    return None


def _order_warnings(files: list[Path]) -> list[str]:
    """Files named by quarter are read in name order: say so when that is not their date order."""
    periods = [file_period(p) for p in files]
    if len(files) < 2 or any(p is None for p in periods):
        return []
    if [p[0] for p in periods] == sorted(p[0] for p in periods):
        return []
    return [
        "file order: the files are read in name order, which is not their date order "
        f"({', '.join(p.name for p in files)}); name them by period (fft_2022-Q1.csv) so later answers win"
    ]
