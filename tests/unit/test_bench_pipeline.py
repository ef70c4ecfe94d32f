"""The end-to-end benchmark harness (``benchmarks/pipeline.py``) on 200 records, baselines included.

Not the benchmark itself (``make bench`` is never part of ``make test``): this checks the harness
measures every stage in its own process and writes a table and JSON that say so.
"""

from __future__ import annotations

import json

import pytest

from benchmarks import pipeline as bench

# ~60 s on two idle cores (four stage processes, each loading its models; themes compiles UMAP).
# 128 s was measured at load average 5 on the shared machine, hence the margin.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("bench")
    out = tmp / "pipeline-200.json"
    code = bench.main(
        [
            "--rows",
            "200",
            "--naive-sample",
            "8",
            "--bertopic-sample",
            "0",
            "--workdir",
            str(tmp / "w"),
            "--out",
            str(out),
        ]
    )
    assert code == 0
    return json.loads(out.read_text(encoding="utf-8"))


def test_every_stage_measured_in_its_own_process(result):
    stages = {s["stage"]: s for s in result["stages"]}
    assert list(stages) == list(bench.STAGES)
    for name, s in stages.items():
        assert s["wall_s"] > 0, name
        assert s["cpu_s"] > 0, name
        assert s["peak_rss_mb"] > 50, name  # a Python process with duckdb loaded, not the parent's figure
        assert s["rows_per_s"] > 0, name
    assert stages["ingest"]["rows_out"] > 0
    assert stages["enrich"]["rows_out"] > 0
    assert result["total"]["wall_s"] == pytest.approx(sum(s["wall_s"] for s in stages.values()), abs=0.05)
    assert result["total"]["peak_rss_mb"] == max(s["peak_rss_mb"] for s in stages.values())
    assert len(result["load_average_before"]) == 3


def test_baselines_are_measured_and_marked_extrapolated(result):
    # The BERTopic baseline is skipped here (--bertopic-sample 0): its fit alone takes ~40 s.
    baselines = {b["vs_stage"]: b for b in result["baselines"]}
    assert set(baselines) == {"enrich"}
    for b in baselines.values():
        assert b["timed_seconds"] > 0 and b["peak_rss_mb"] > 0 and b["rows_per_s"] > 0
        assert b["extrapolated"] == (b["target_rows"] != b["sample_rows"])
        assert b["extrapolated_s"] == pytest.approx(b["target_rows"] / b["rows_per_s"], rel=0.02)


def test_table_names_every_stage_and_the_extrapolation(result, capsys):
    text = bench.render(result)
    for name in (*bench.STAGES, "total", "per-call transformers", "extrap"):
        assert name in text
    projected = bench.extrapolate(result, 2000)
    assert projected["extrapolated"] is True
    assert projected["stages"][0]["wall_s"] == pytest.approx(result["stages"][0]["wall_s"] * 10, abs=0.1)
    assert "EXTRAPOLATED" in bench.render(projected)
