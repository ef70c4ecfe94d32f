"""Bounded fuzzing of the CSV, JSON Lines and FHIR readers.

    python -m benchmarks.fuzz_readers --runs 5000 --seconds 60

Each input is one file: its first byte picks the reader (CSV survey, CSV suggestions, JSON Lines,
FHIR Bundle, FHIR NDJSON), the rest is the file's bytes, read by
:func:`pipelines.sources.readers.read_source_file` exactly as ingest reads it (decode, parse, map
to canonical records). Every input must either read, with every row counted and every stored
value valid UTF-8, or raise the readers' own ``SourceError``; anything else is a *finding*,
printed once per kind with the input that caused it.

The engine is atheris (coverage-guided libFuzzer, seeded with the hostile corpus and the
bad-input fixtures); without atheris, or with ``--engine random``, a seeded mutation loop over
the same seeds runs instead. The run stops by itself after ``--runs`` inputs or ``--seconds`` of fuzzing (start-up not
counted), and
writes a JSON summary to ``--summary`` (``make reliability`` reads it). Exit status: 1 when
there was a finding, else 0.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SEED_DIRS = (ROOT / "tests" / "fixtures" / "hostile", ROOT / "tests" / "fixtures" / "ingest" / "bad")
# (selector name, file suffix, source config): one per reader path.
TARGETS: tuple[tuple[str, str, dict[str, Any]], ...] = (
    ("csv-fft", ".csv", {"name": "fuzz_fft", "stream": "survey", "preset": "fft", "format": "csv", "path": "x"}),
    (
        "csv-suggestions",
        ".csv",
        {"name": "fuzz_sug", "stream": "suggestion", "preset": "suggestion_box", "format": "csv", "path": "x"},
    ),
    (
        "jsonl",
        ".jsonl",
        {"name": "fuzz_jsonl", "stream": "suggestion", "preset": "suggestion_box", "format": "jsonl", "path": "x"},
    ),
    (
        "fhir-bundle",
        ".json",
        {
            "name": "fuzz_fhir",
            "stream": "survey",
            "preset": "fft",
            "format": "fhir",
            "path": "x",
            "mapping": {
                "rating": "fft-overall",
                "site": "site",
                "service": "ward",
                "questions": {"fft-good": None, "fft-improve": "What could we improve?"},
            },
        },
    ),
)
NDJSON = 4  # selector of the FHIR NDJSON layout (the bundle config with fhir_layout: ndjson)
SUFFIX_TARGET = {".csv": 0, ".tsv": 0, ".txt": 0, ".jsonl": 2, ".json": 3, ".ndjson": NDJSON}


class Target:
    """Reads one fuzz input as a file of the selected reader and checks the outcome."""

    def __init__(self, workdir: Path) -> None:
        from pipelines.sources.base import parse_source_config

        self.workdir = workdir
        self.configs = [parse_source_config(cfg, f"fuzz:{name}") for name, _, cfg in TARGETS]
        ndjson = dict(TARGETS[3][2], options={"fhir_layout": "ndjson"})
        self.configs.append(parse_source_config(ndjson, "fuzz:fhir-ndjson"))
        self.suffixes = [suffix for _, suffix, _ in TARGETS] + [".ndjson"]
        self.runs = 0
        self.findings: dict[str, dict[str, Any]] = {}
        self.first_input: float | None = None

    def deadline(self, seconds: float) -> float:
        """When fuzzing stops: ``seconds`` after the first input (start-up is not fuzzing time)."""
        return (self.first_input or time.perf_counter()) + seconds

    def __call__(self, data: bytes) -> None:
        """One input: read it, and record a finding unless it read cleanly or raised SourceError."""
        from pipelines.sources.readers import read_source_file
        from pipelines.sources.types import SourceError

        self.runs += 1
        if self.first_input is None:
            self.first_input = time.perf_counter()
        if not data:
            return
        which = data[0] % len(self.configs)
        path = self.workdir / f"input{self.suffixes[which]}"
        path.write_bytes(data[1:])
        try:
            read = read_source_file(self.configs[which], path)
            problem = _problem(read)
        except SourceError:
            return
        except Exception as exc:  # the finding itself: any other exception escaping a reader
            frame = traceback.extract_tb(exc.__traceback__)[-1]
            problem = f"{type(exc).__name__} at {Path(frame.filename).name}:{frame.lineno}: {str(exc)[:200]}"
        if problem:
            key = problem.split(": ", 1)[0]
            self.findings.setdefault(
                key, {"problem": problem, "reader": self.suffixes[which], "input": data[:400].hex(), "count": 0}
            )
            self.findings[key]["count"] += 1

    def summary(self, engine: str, seconds: float) -> dict[str, Any]:
        """Inputs tried and findings (one per kind) as plain data."""
        return {
            "engine": engine,
            "runs": self.runs,
            "seconds": round(seconds, 1),
            "findings": list(self.findings.values()),
        }


def _problem(read: Any) -> str | None:
    """What is wrong with a successful read: rows not counted, or text that cannot be stored."""
    rows = read.rows
    if rows.rows_read != len(rows.frame) + len(rows.rejects):
        return "rows not counted: rows_read differs from rows + rejects"
    for reject in rows.rejects:
        if not (reject.reason and reject.failed_check):
            return f"reject without a reason: line {reject.row_number}"
    for frame in (rows.frame, read.mapped.records):
        for column in frame.columns:
            for value in frame[column]:
                if isinstance(value, str):
                    try:
                        value.encode("utf-8")
                    except UnicodeEncodeError:
                        return f"value not storable as UTF-8: column {column!r} holds {value[:80]!r}"
    return None


def seeds() -> list[bytes]:
    """The hostile corpus and the bad-input fixtures, each prefixed with the selector of its reader."""
    out = []
    for folder in SEED_DIRS:
        for path in sorted(folder.iterdir()):
            which = SUFFIX_TARGET.get(path.suffix.lower())
            if which is None or not path.is_file() or path.stat().st_size > 200_000:
                continue
            if which == 0 and "suggestion" in path.name:
                which = 1
            out.append(bytes([which]) + path.read_bytes())
    return out


def _mutate(rng: random.Random, data: bytes) -> bytes:
    """One random edit: flip, insert, delete, duplicate a slice, or splice in a hostile token."""
    tokens = [
        b'"',
        b"\r",
        b"\n",
        b"\x00",
        b",",
        b"\t",
        b"[" * 2000,
        b'{"a":' * 50,
        b"\\ud83d",
        b"\xff\xfe",
        b"\xef\xbb\xbf",
    ]
    buf = bytearray(data)
    pos = rng.randrange(len(buf) + 1)
    op = rng.randrange(5)
    if op == 0 and buf:
        buf[min(pos, len(buf) - 1)] ^= 1 << rng.randrange(8)
    elif op == 1:
        buf[pos:pos] = rng.choice(tokens)
    elif op == 2:
        del buf[pos : pos + rng.randrange(1, 64)]
    elif op == 3:
        buf[pos:pos] = buf[max(0, pos - 64) : pos]
    else:
        buf[pos:] = buf[pos : pos + rng.randrange(0, len(buf) + 1)]
    return bytes(buf)


def run_random(target: Target, runs: int, seconds: float, seed: int) -> None:
    """The fallback engine: seeded random mutations of the seeds, until ``runs`` inputs or ``seconds``."""
    rng = random.Random(seed)
    corpus = seeds()
    while target.runs < runs and time.perf_counter() < target.deadline(seconds):
        data = rng.choice(corpus)
        for _ in range(rng.randrange(1, 4)):
            data = _mutate(rng, data)
        target(data[:1] + data[1:200_000] if data else data)


def run_atheris(target: Target, runs: int, seconds: float, summary: Path | None, started: float) -> None:
    """Coverage-guided fuzzing; libFuzzer never returns, so the summary is written at the budget's end."""
    import atheris

    corpus_dir = Path(tempfile.mkdtemp(prefix="fuzz-corpus-"))
    for i, data in enumerate(seeds()):
        (corpus_dir / f"seed{i:03d}").write_bytes(data)

    def one_input(data: bytes) -> None:
        target(data)
        if target.runs >= runs or time.perf_counter() >= target.deadline(seconds):
            _write_summary(summary, target.summary("atheris", time.perf_counter() - started))
            sys.stdout.flush()
            for folder in (corpus_dir, target.workdir):  # os._exit skips every cleanup handler
                shutil.rmtree(folder, ignore_errors=True)
            os._exit(1 if target.findings else 0)

    argv = [sys.argv[0], str(corpus_dir), f"-runs={runs + 1000}", f"-max_total_time={int(seconds) + 120}"]
    argv += ["-max_len=65536", f"-artifact_prefix={corpus_dir}/", "-print_final_stats=0"]
    atheris.Setup(argv, one_input)
    atheris.Fuzz()


def _write_summary(path: Path | None, data: dict[str, Any]) -> None:
    if path is not None:
        path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    print(f"fuzz ({data['engine']}): {data['runs']} inputs in {data['seconds']} s, {len(data['findings'])} finding(s)")
    for finding in data["findings"]:
        print(f"  FINDING x{finding['count']} ({finding['reader']}): {finding['problem']}")


def main(argv: list[str] | None = None) -> int:
    """Parse the budget, pick the engine, fuzz, print and write the summary."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5000, help="stop after this many inputs")
    parser.add_argument("--seconds", type=float, default=60.0, help="stop after this many seconds")
    parser.add_argument("--engine", choices=["atheris", "random"], default="atheris")
    parser.add_argument("--seed", type=int, default=42, help="seed of the random engine")
    parser.add_argument("--summary", type=Path, default=None, help="write the JSON summary here")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    workdir = Path(tempfile.mkdtemp(prefix="fuzz-readers-"))
    engine = args.engine
    if engine == "atheris":
        try:
            import atheris
        except ImportError:
            print("atheris is not installed: using the random mutation engine")
            engine = "random"
    if engine == "atheris":
        import pandas  # noqa: F401  (imported first, so only our readers are instrumented)

        with atheris.instrument_imports(include=["pipelines.sources"]):
            import pipelines.sources.fhir  # noqa: F401
            import pipelines.sources.readers  # noqa: F401
        run_atheris(Target(workdir), args.runs, args.seconds, args.summary, started)
    target = Target(workdir)
    run_random(target, args.runs, args.seconds, args.seed)
    shutil.rmtree(workdir, ignore_errors=True)
    _write_summary(args.summary, target.summary("random", time.perf_counter() - started))
    return 1 if target.findings else 0


if __name__ == "__main__":
    sys.exit(main())
