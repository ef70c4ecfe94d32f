"""The hostile-input corpus: every crafted file through the real ingest stage, every row accounted for.

tests/fixtures/hostile/manifest.yaml says, per file, what a correct pipeline does with it: whether
the file loads or fails with a clear error, which ids load, which rows are quarantined and why,
which are duplicates or skipped, and some stored values. The whole corpus is ingested once by
``pipelines.stages.ingest_stage`` on a throw-away warehouse (one source per entry); each test
below then compares one entry with the warehouse through ``benchmarks.hostile_corpus.check_entry``,
which ``make reliability`` uses too. A failing test lists every difference for its file.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks import hostile_corpus
from benchmarks.hostile_corpus import CorpusRun

ENTRIES = hostile_corpus.load_manifest()


@pytest.fixture(scope="session")
def hostile_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    """A copy of the corpus with every make_files.py file written, the 5 MiB one included."""
    folder = tmp_path_factory.mktemp("hostile-files")
    differ = hostile_corpus.prepare_files(folder)
    return folder, differ


@pytest.fixture(scope="module")
def corpus_run(hostile_files: tuple[Path, list[str]], tmp_path_factory: pytest.TempPathFactory) -> CorpusRun:
    """The whole corpus ingested once (each entry its own source)."""
    return hostile_corpus.run_corpus(tmp_path_factory.mktemp("hostile-run"), data_dir=hostile_files[0])


def test_manifest_covers_every_file_once():
    on_disk = {p.name for p in hostile_corpus.HOSTILE_DIR.iterdir() if p.is_file()} - {
        "manifest.yaml",
        "README.md",
        "make_files.py",
        ".gitignore",
    }
    in_manifest = [e["file"] for e in ENTRIES]
    assert len(in_manifest) == len(set(in_manifest)) >= 30
    generated = {e["file"] for e in ENTRIES if e.get("generated")}
    assert on_disk | generated == set(in_manifest)


def test_committed_files_are_byte_exact(hostile_files: tuple[Path, list[str]]):
    """make_files.py writes the same bytes as are committed (no editor 'fixed' a BOM or line end)."""
    assert hostile_files[1] == []


@pytest.mark.parametrize("entry", ENTRIES, ids=[e["file"] for e in ENTRIES])
def test_hostile_file(corpus_run: CorpusRun, entry: dict):
    """File-level outcome, ids loaded, rows quarantined with a reason, reconciliation, stored values."""
    problems = hostile_corpus.check_entry(corpus_run, entry)
    assert problems == [], f"{entry['file']} ({entry['what_it_tests'][:120]}...):\n- " + "\n- ".join(problems)


def test_every_batch_reconciles(corpus_run: CorpusRun):
    """read = loaded + quarantined + duplicate + skipped, for every batch recorded."""
    b = corpus_run.batches
    accounted = b["rows_loaded"] + b["rows_quarantined"] + b["rows_duplicate"] + b["rows_skipped"].fillna(0)
    assert (b["rows_read"] == accounted).all(), b[b["rows_read"] != accounted].to_dict("records")


def test_every_source_leaves_a_batch(corpus_run: CorpusRun):
    """No source crashes without a trace: each one has a batch in raw.ingest_batches."""
    names = {e["source_yaml"]["name"] for e in ENTRIES}
    assert names - set(corpus_run.batches["source"]) == set()


def test_planted_identifier_is_not_stored(corpus_run: CorpusRun):
    """The NHS number in an unmapped column never reaches raw.feedback."""
    assert hostile_corpus.leaked_identifiers(corpus_run) == dict.fromkeys(hostile_corpus.PLANTED, 0)


def test_nothing_lost_or_duplicated(corpus_run: CorpusRun):
    tally = hostile_corpus.tally(corpus_run)
    assert (tally.rows_lost, tally.rows_duplicated) == (0, 0)
