"""The incremental benchmark harness (``benchmarks/incremental.py``): save after the full run, resume from it.

The runs themselves are replaced by a stand-in (a real full run is minutes even on a small demo;
``make bench-incremental`` is the benchmark). What is checked is the harness: which runs happen,
what is appended before the increment, and which full run the increment is measured against.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks import incremental as bench


@pytest.fixture
def fake_runs(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """Replace demo generation and ``feedback run``; record (run, demo file text) per run."""
    calls: list[tuple[str, str]] = []

    def prepare(work: Path, rows: int, seed: int) -> dict[str, list[str]]:
        demo = work / "data" / "demo"
        demo.mkdir(parents=True)
        (demo / "survey.csv").write_text("id,text\n1,old\n", encoding="utf-8")
        return {"survey.csv": ["2,new\n"]}

    def run(work: Path, name: str, *extra: str) -> bench.Step:
        calls.append((name, (work / "data" / "demo" / "survey.csv").read_text(encoding="utf-8")))
        seconds = {"full": 200.0, "1% increment": 8.0}.get(name, 1.0)
        return bench.Step(name, seconds, stages={"ingest": seconds})

    monkeypatch.setattr(bench, "prepare", prepare)
    monkeypatch.setattr(bench, "run", run)
    return calls


def test_a_saved_full_run_is_resumed_without_running_it_again(tmp_path, fake_runs, capsys):
    saved = tmp_path / "saved"
    assert bench.main(["--rows", "10", "--keep", str(tmp_path / "a"), "--save-full", str(saved)]) == 0
    record = json.loads((saved / bench.SAVED).read_text(encoding="utf-8"))
    assert record["held"] == {"survey.csv": ["2,new\n"]} and record["full"]["seconds"] == 200.0
    # The copy is the state after the full run: the held-back row is not in it.
    assert (saved / "data" / "demo" / "survey.csv").read_text(encoding="utf-8") == "id,text\n1,old\n"
    fake_runs.clear()
    capsys.readouterr()

    code = bench.main(["--from-full", str(saved), "--keep", str(tmp_path / "b")])
    out = capsys.readouterr().out
    assert [name for name, _ in fake_runs] == ["settle (moved)", "no-op", "1% increment", "no-op after"]
    assert fake_runs[2][1] == "id,text\n1,old\n2,new\n", "the held-back 1% is appended before the increment"
    assert "1% increment: 4.0% of the full run" in out  # 8 s against the saved 200 s
    assert code == 0
    # The saved state itself is never written to: it can be resumed again.
    assert (saved / "data" / "demo" / "survey.csv").read_text(encoding="utf-8") == "id,text\n1,old\n"


def test_resume_needs_a_saved_folder(tmp_path, fake_runs):
    with pytest.raises(SystemExit) as exit_info:
        bench.main(["--from-full", str(tmp_path), "--keep", str(tmp_path / "b")])
    assert exit_info.value.code == 2 and fake_runs == []


def test_a_resumed_state_uses_this_checkouts_sentiment_build(tmp_path, fake_runs):
    saved = tmp_path / "saved"
    assert bench.main(["--rows", "10", "--keep", str(tmp_path / "a"), "--save-full", str(saved)]) == 0
    # The checkout that saved it (a worktree, say) is gone: its link dangles.
    link = saved / "models" / "sentiment" / "build"
    link.parent.mkdir(parents=True, exist_ok=True)
    link.unlink(missing_ok=True)
    link.symlink_to(tmp_path / "removed-worktree" / "models" / "sentiment" / "build")
    assert bench.main(["--from-full", str(saved), "--keep", str(tmp_path / "b")]) == 0
    resumed = tmp_path / "b" / "models" / "sentiment" / "build"
    assert resumed.readlink() == bench.ROOT / "models" / "sentiment" / "build"
    assert link.readlink() == tmp_path / "removed-worktree" / "models" / "sentiment" / "build"  # saved state untouched
