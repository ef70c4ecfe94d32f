"""Issue 14 item 5: the reviewer loop for themes (XLSX export, validated import, corrections that persist).

Two small warehouses: the synthetic report sample (``pipelines/demo/report_sample.py``: raw,
enrich, marts and reporting views, no ML) for export, validation and what the reporting views
show; and a tiny theme warehouse fitted with a bag-of-words embedder (taxonomy-only fit, seconds)
for corrections surviving a refit and recodes teaching the category classifier.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from openpyxl import load_workbook

from pipelines import stages, warehouse
from pipelines.config import Settings
from pipelines.demo import report_sample as sample
from pipelines.themes import review
from tests.conftest import ROOT
from tests.fakes import BagEmbedder


def _embedder() -> BagEmbedder:
    return BagEmbedder(dim=96, positional=True, name="bag-review")


# --------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------
def _sheet(path: Path, name: str) -> pd.DataFrame:
    return pd.read_excel(path, sheet_name=name, dtype=str, keep_default_na=False)


def _edit(path: Path, out: Path, themes: dict[str, dict[str, str]], comments: dict[tuple[str, int], dict[str, str]]):
    """Copy of an exported workbook with editable cells filled (theme id / clause key -> column -> value)."""
    wb = load_workbook(path)
    for name, edits, key_of in (
        ("themes", themes, lambda row, h: row[h["theme_id"]].value),
        ("comments", comments, lambda row, h: (row[h["feedback_id"]].value, int(row[h["clause_idx"]].value))),
    ):
        ws = wb[name]
        header = {c.value: i for i, c in enumerate(ws[1])}
        for row in ws.iter_rows(min_row=2):
            for column, value in edits.get(key_of(row, header), {}).items():
                row[header[column]].value = value
    wb.save(out)
    return out


def _write_review(path: Path, themes: list[dict], comments: list[dict]) -> Path:
    """A reviewer workbook written from rows (for warehouses without marts)."""
    frames = {
        "themes": pd.DataFrame(themes).reindex(columns=list(review.THEME_COLUMNS)).fillna(""),
        "comments": pd.DataFrame(comments).reindex(columns=list(review.COMMENT_COLUMNS)).fillna(""),
    }
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        for name, frame in frames.items():
            frame.to_excel(writer, sheet_name=name, index=False)
    return path


@pytest.fixture
def sampled(settings):
    """The report sample warehouse: 8 themes with quotes and clauses, marts and reporting views built."""
    with warehouse.connect(settings) as con:
        sample.load_sample(settings, con, n_records=300, insights=False, actions=False)
    return settings


def _state(settings: Settings) -> dict[str, list]:
    with warehouse.connect(settings, read_only=True) as con:
        return {
            table: con.execute(f"select * from {table} order by all").fetchall()  # noqa: S608 - fixed names
            for table in ("enrich.themes", "enrich.theme_assignments", "enrich.theme_corrections")
        }


def _export(settings: Settings, out: Path) -> review.ExportResult:
    with warehouse.connect(settings, read_only=True) as con:
        return review.export_review(settings, con, out, review.taxonomy(settings), per_theme=4)


# --------------------------------------------------------------------------------------
# export
# --------------------------------------------------------------------------------------
def test_export_writes_themes_comments_categories_and_guards_formulas(sampled, tmp_path):
    with warehouse.connect(sampled) as con:  # a label a spreadsheet would run as a formula
        con.execute("update enrich.themes set label = '=HYPERLINK(\"http://x\",\"y\")' where theme_id = 'T0005'")
        warehouse.build_models(con, sampled)
    result = _export(sampled, tmp_path / "review.xlsx")
    assert result.themes == 8 and result.comments > 8
    wb = load_workbook(result.path)
    assert wb.sheetnames == ["themes", "comments", "categories", "instructions"]
    themes = _sheet(result.path, "themes")
    assert list(themes.columns) == list(review.THEME_COLUMNS)
    assert set(themes["theme_id"]) == set(sample.THEMES)
    assert (themes[["action", "new_label", "new_category", "merge_into"]] == "").all().all()
    assert themes.loc[themes["theme_id"] == "T0005", "label"].item().startswith("'=")  # shown as text
    # quotes are the registry's redacted clauses, never the raw text (which carries planted PHI)
    quotes = themes[["quote_1", "quote_2", "quote_3"]].to_numpy().ravel().tolist()
    assert any(quotes) and not any(phi in q for q in quotes for phi in sample.PLANTED_PHI)
    comments = _sheet(result.path, "comments")
    assert list(comments.columns) == list(review.COMMENT_COLUMNS)
    assert comments.groupby("theme_id").size().max() <= 4
    with warehouse.connect(sampled, read_only=True) as con:
        redacted = {
            (f, int(i)): t
            for f, i, t in con.execute("select feedback_id, clause_idx, clause_text from enrich.aspects").fetchall()
        }
    for r in comments.itertuples():
        assert redacted[(r.feedback_id, int(r.clause_idx))] == r.text.removeprefix("'")
    validations = {str(v.sqref): v for v in wb["themes"].data_validations.dataValidation}
    formulas = sorted(v.formula1 for v in validations.values())
    assert any(f.startswith("categories!") for f in formulas) and '"keep,rename,move,merge"' in formulas
    assert {c.value for c in wb["categories"]["A"][1:]} == {c.id for c in review.taxonomy(sampled)}


# --------------------------------------------------------------------------------------
# invalid files
# --------------------------------------------------------------------------------------
def test_invalid_file_applies_nothing_and_lists_rows(sampled, tmp_path):
    exported = _export(sampled, tmp_path / "review.xlsx").path
    comments = _sheet(exported, "comments")
    first = comments.iloc[0]
    bad = _edit(
        exported,
        tmp_path / "bad.xlsx",
        themes={
            "T0001": {"merge_into": "T0002"},
            "T0002": {"merge_into": "T0001"},  # a cycle
            "T0003": {"merge_into": "T0003"},  # into itself
            "T0004": {"new_category": "no_such_category"},
            "T0005": {"merge_into": "T9999"},  # unknown target
            "T0006": {"new_label": "Staff attitude"},  # the label of T0003
            "T0007": {"action": "rename"},  # rename without a label
            "T0008": {"action": "explode"},
        },
        comments={(first["feedback_id"], int(first["clause_idx"])): {"new_theme": "T4242"}},
    )
    wb = load_workbook(bad)
    ws = wb["comments"]
    ws.append(["no-such-feedback", 0, "", "", "", "", "T0001", ""])  # an unknown clause
    wb["themes"].append(["T7777", "", "", "", "", "", "", "", "", "New name", "", ""])  # an unknown theme
    wb.save(bad)
    before = _state(sampled)
    with pytest.raises(review.ReviewImportError) as info:
        stages.theme_review_stage(sampled, "r-bad", bad)
    message = str(info.value)
    assert "nothing applied" in message
    row_of = {tid: i + 2 for i, tid in enumerate(_sheet(exported, "themes")["theme_id"])}
    cycle = min(row_of["T0001"], row_of["T0002"])
    expected = [
        f"sheet 'themes' row {cycle}: merges form a cycle:",
        f"sheet 'themes' row {row_of['T0003']}: merge_into names the theme itself",
        f"sheet 'themes' row {row_of['T0004']}: unknown category 'no_such_category'",
        f"sheet 'themes' row {row_of['T0005']}: merge_into names an unknown theme 'T9999'",
        f"sheet 'themes' row {row_of['T0006']}: new_label 'Staff attitude' is the label of T0003 too",
        f"sheet 'themes' row {row_of['T0007']}: action rename needs new_label",
        f"sheet 'themes' row {row_of['T0008']}: action 'explode' is not one of keep, rename, move, merge",
        f"sheet 'themes' row {len(row_of) + 2}: unknown theme_id 'T7777'",
        "sheet 'comments' row 2: unknown theme id 'T4242' in new_theme",
        f"sheet 'comments' row {len(comments) + 2}: unknown clause no-such-feedback#0",
    ]
    for line in expected:
        assert line in message, (line, message)
    assert _state(sampled) == before  # nothing applied
    with warehouse.connect(sampled, read_only=True) as con:
        run = con.execute("select status, message from ops.stage_runs where stage = 'theme_review'").fetchall()
        assert con.execute("select count(*) from enrich.theme_correction_sets").fetchone()[0] == 0
    assert run[0][0] == "failed" and "ReviewImportError" in run[0][1]


def test_a_typed_formula_is_refused_and_a_guarded_label_reads_back_as_text(sampled, tmp_path):
    with warehouse.connect(sampled) as con:
        con.execute("update enrich.themes set label = '=1+1 parking' where theme_id = 'T0005'")
        warehouse.build_models(con, sampled)
    exported = _export(sampled, tmp_path / "review.xlsx").path
    bad = _edit(exported, tmp_path / "f.xlsx", {"T0001": {"new_label": '=UPPER("parking")'}}, {})
    with pytest.raises(review.ReviewImportError) as info:
        stages.theme_review_stage(sampled, "r-f", bad)
    assert "1 error(s)" in str(info.value) and "new_label holds a formula" in str(info.value)
    themes, _ = review.read_review_file(exported)
    guarded = next(r for _, r in themes if r["theme_id"] == "T0005")
    assert guarded["label"] == "=1+1 parking" and not isinstance(guarded["label"], review.Formula)


def test_blank_and_read_only_edits(sampled, tmp_path):
    exported = _export(sampled, tmp_path / "review.xlsx").path
    with pytest.raises(review.ReviewImportError, match="no corrections in the file"):
        stages.theme_review_stage(sampled, "r-blank", exported)
    edited = _edit(
        exported, tmp_path / "ro.xlsx", {"T0001": {"label": "Edited here", "new_label": "Parking costs"}}, {}
    )
    summary = stages.theme_review_stage(sampled, "r-ro", edited)
    assert summary["counts"]["renames"] == 1
    assert any("column 'label' is read-only" in note for note in summary["ignored"])
    with warehouse.connect(sampled, read_only=True) as con:
        assert con.execute("select label from enrich.themes where theme_id = 'T0001'").fetchone()[0] == "Parking costs"


# --------------------------------------------------------------------------------------
# a valid file, applied and visible in the reporting views
# --------------------------------------------------------------------------------------
def test_rename_move_merge_recode_split_reach_the_reporting_views(sampled, tmp_path):
    exported = _export(sampled, tmp_path / "review.xlsx").path
    comments = _sheet(exported, "comments")
    staff = comments[comments["theme_id"] == "T0003"].iloc[0]
    waiting = comments[comments["theme_id"] == "T0002"].iloc[:2]
    edited = _edit(
        exported,
        tmp_path / "reviewed.xlsx",
        themes={
            "T0001": {"action": "rename", "new_label": "Car park charges and spaces"},
            "T0002": {"new_category": "appointments", "new_label": "Waiting for an appointment"},
            "T0008": {"action": "merge", "merge_into": "T0004"},
        },
        comments={
            (staff["feedback_id"], int(staff["clause_idx"])): {"new_theme": "T0005"},
            **{
                (r.feedback_id, int(r.clause_idx)): {"new_theme": "Trolley waits in the corridor"}
                for r in waiting.itertuples()
            },
        },
    )
    with warehouse.connect(sampled, read_only=True) as con:
        merged_clauses = con.execute(
            "select count(*) from marts.fct_feedback_theme where theme_id = 'T0008'"
        ).fetchone()[0]
        target_before = con.execute(
            "select count(*) from marts.fct_feedback_theme where theme_id = 'T0004'"
        ).fetchone()[0]
    assert merged_clauses > 0
    summary = stages.theme_review_stage(sampled, "r-ok", edited, reviewer="ann")
    assert summary["theme_corrections_version"] == 1
    assert summary["counts"] == {"renames": 2, "moves": 1, "merges": 1, "recodes": 3, "new_themes": 1}
    new_id = summary["new_themes"]["Trolley waits in the corridor"]
    assert new_id == "T0009"
    with warehouse.connect(sampled, read_only=True) as con:
        q = con.execute
        summary_view = {
            r[0]: r
            for r in q("select theme_id, theme_label, category_name from reporting.rpt_theme_summary").fetchall()
        }
        assert summary_view["T0001"][1] == "Car park charges and spaces"
        assert summary_view["T0002"][1:] == ("Waiting for an appointment", "Appointments and booking")
        assert "T0008" not in summary_view
        assert q("select theme_status, merged_into from marts.dim_theme where theme_id = 'T0008'").fetchone() == (
            "merged",
            "T0004",
        )
        assert (
            q("select count(*) from marts.fct_feedback_theme where theme_id = 'T0004'").fetchone()[0]
            >= target_before + merged_clauses - 5
        )
        recoded = q(
            "select theme_id, theme_method from marts.fct_feedback_theme "
            "where feedback_id = ? and clause_idx = ? and theme_rank = 1",
            [staff["feedback_id"], int(staff["clause_idx"])],
        ).fetchall()
        assert recoded == [("T0005", "reviewer")]
        split = q(
            "select theme_label, category_id, theme_status from marts.dim_theme where theme_id = ?", [new_id]
        ).fetchone()
        assert split == ("Trolley waits in the corridor", "appointments", "active")  # its theme was moved there
        assert q("select count(*) from marts.fct_feedback_theme where theme_id = ?", [new_id]).fetchone()[0] == 2
        theme_labels = q(
            "select theme_labels from reporting.rpt_feedback_comments where feedback_id = ?", [staff["feedback_id"]]
        ).fetchone()[0]
        assert "Food and drink" in str(theme_labels)
        # versioned and recorded in the run status
        sets = q(
            "select set_version, file_name, file_sha256, reviewer, run_id from enrich.theme_correction_sets"
        ).fetchall()
        assert sets == [(1, "reviewed.xlsx", review.file_sha256(edited), "ann", "r-ok")]
        run = q("select status, versions from reporting.rpt_run_status where stage = 'theme_review'").fetchone()
        assert run[0] == "success" and json.loads(run[1])["theme_corrections_version"] == 1
        versions = dict(
            q("select component, version from reporting.rpt_model_versions where stage = 'theme_review'").fetchall()
        )
        assert versions["theme_corrections_version"] == "1"
    with pytest.raises(review.ReviewImportError, match="applied already as correction set 1"):
        stages.theme_review_stage(sampled, "r-again", edited)


def test_merge_into_a_merged_theme_and_chains_are_refused(sampled, tmp_path):
    exported = _export(sampled, tmp_path / "review.xlsx").path
    chain = _edit(
        exported, tmp_path / "chain.xlsx", {"T0006": {"merge_into": "T0007"}, "T0007": {"merge_into": "T0004"}}, {}
    )
    with pytest.raises(review.ReviewImportError, match="merge_into names T0007, which this file merges into T0004"):
        stages.theme_review_stage(sampled, "r1", chain)
    first = _edit(exported, tmp_path / "first.xlsx", {"T0007": {"merge_into": "T0004"}}, {})
    stages.theme_review_stage(sampled, "r2", first)
    later = _edit(exported, tmp_path / "later.xlsx", {"T0006": {"merge_into": "T0007"}}, {})
    with pytest.raises(review.ReviewImportError, match="merge_into names theme T0007, which is merged"):
        stages.theme_review_stage(sampled, "r3", later)


def test_merge_keeps_one_row_per_clause_with_the_better_rank(sampled, tmp_path):
    with warehouse.connect(sampled) as con:
        q = con.execute
        a = q(
            "select feedback_id, clause_idx from enrich.theme_assignments where theme_id = 'T0008' limit 1"
        ).fetchone()
        b = q(
            "select feedback_id, clause_idx from enrich.theme_assignments where theme_id = 'T0004' limit 1"
        ).fetchone()
        # clause a: primary T0008, secondary T0004; clause b: primary T0004, secondary T0008
        q("insert into enrich.theme_assignments values (?, ?, 'T0004', 2, 0.5, 'secondary', 'x', null)", list(a))
        q("insert into enrich.theme_assignments values (?, ?, 'T0008', 2, 0.5, 'secondary', 'x', null)", list(b))
        warehouse.build_models(con, sampled)
    exported = _export(sampled, tmp_path / "review.xlsx").path
    stages.theme_review_stage(
        sampled, "r-merge", _edit(exported, tmp_path / "m.xlsx", {"T0008": {"merge_into": "T0004"}}, {})
    )
    with warehouse.connect(sampled, read_only=True) as con:
        for key in (a, b):
            rows = con.execute(
                "select theme_id, theme_rank from enrich.theme_assignments where feedback_id = ? and clause_idx = ?",
                list(key),
            ).fetchall()
            assert rows == [("T0004", 1)], (key, rows)
        assert con.execute("select count(*) from enrich.theme_assignments where theme_id = 'T0008'").fetchone()[0] == 0
        assert con.execute("select size from enrich.themes where theme_id = 'T0008'").fetchone()[0] == 0


def test_cli_import_exit_code_and_rows(sampled, tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from pipelines.cli import app

    for key, value in {
        "FEEDBACK_HOME": str(ROOT),
        "FEEDBACK_WAREHOUSE": str(sampled.warehouse),
        "FEEDBACK_REPORTS_DIR": str(sampled.reports_dir),
        "COLUMNS": "200",
    }.items():
        monkeypatch.setenv(key, value)
    out = tmp_path / "cli.xlsx"
    result = CliRunner().invoke(app, ["themes", "export", str(out), "--per-theme", "3"])
    assert result.exit_code == 0, result.output
    bad = _edit(out, tmp_path / "bad.xlsx", {"T0001": {"new_category": "nope"}}, {})
    result = CliRunner().invoke(app, ["themes", "import", str(bad), "--wait", "0"])
    assert result.exit_code == 1 and "row" in result.output and "unknown category 'nope'" in result.output
    good = _edit(out, tmp_path / "good.xlsx", {"T0001": {"new_category": "transport"}}, {})
    result = CliRunner().invoke(app, ["themes", "import", str(good), "--reviewer", "bob", "--wait", "0"])
    assert result.exit_code == 0, result.output
    assert "theme corrections version 1" in result.output


# --------------------------------------------------------------------------------------
# persistence across a refit, and the classifier taught by a recode
# --------------------------------------------------------------------------------------
COMMENTS = [
    ("c01", "waited four hours to be seen in A&E"),
    ("c02", "long wait in the waiting room"),
    ("c03", "waited ages for the clinic"),
    ("c04", "the wait was far too long"),
    ("c05", "the nurse was rude to my mother"),
    ("c06", "staff were kind and caring"),
    ("c07", "lovely friendly nurses"),
    ("c08", "the receptionist was rude"),
    ("c09", "no parking spaces at all"),
    ("c10", "car park was full"),
    ("c11", "parking charges are too high"),
    ("c12", "could not find a parking space"),
    ("c13", "the food was cold"),
    ("c14", "meals were tasty and hot"),
    ("c15", "nothing to eat all day"),
    ("c16", "the ward was dirty"),
    ("c17", "toilets were filthy"),
    ("c18", "the ward was spotless and clean"),
    ("c19", "the porter wheeled me round the corridor for an hour"),
]
NEAR_DUPLICATE = ("c20", "the porter wheeled my dad round the corridor for an hour")


@pytest.fixture
def fitted(tmp_path):
    from benchmarks.themes import bench_settings, load_comments
    from pipelines.themes import stage as themes

    base = Settings.from_env({"FEEDBACK_HOME": str(ROOT)}).with_(models_dir=ROOT / "models")
    # The taxonomy's own examples train the classifier (no coded files): seconds with the bag embedder.
    settings = bench_settings(base, tmp_path / "wh", {"classifier": {"training": []}})
    with warehouse.connect(settings) as con:
        warehouse.apply_schema(con, settings)
        load_comments(settings, con, COMMENTS)
        themes.run_themes(settings, con, "fit-1", refit=True, embedder=_embedder())
    return settings


def _themes_of(settings, con):
    reg = warehouse.run_sql(con, settings, "queries/themes/review_registry").df().set_index("theme_id")
    rows = con.execute(
        "select feedback_id, clause_idx, theme_id, method from enrich.theme_assignments where theme_rank = 1"
    ).fetchall()
    return reg, {(f, i): (t, m) for f, i, t, m in rows}


def test_corrections_persist_across_a_refit_and_recodes_teach_the_classifier(fitted, tmp_path):
    from pipelines.themes import stage as themes
    from pipelines.themes.context import scorer
    from pipelines.themes.model import load_config

    settings, embedder = fitted, _embedder()
    cfg = load_config(settings.models_dir / "themes" / "config.yaml")
    categories = review.taxonomy(settings)
    ids = [c.id for c in categories]
    with warehouse.connect(settings) as con:
        reg, assigned = _themes_of(settings, con)
    active = reg[reg["status"] == "active"]
    assert len(active) >= 4
    by_size = active.sort_values("size", ascending=False).index.tolist()
    renamed, moved, merged, into = by_size[0], by_size[1], by_size[2], by_size[3]
    # The porter clause: the classifier's category for its near-duplicate, before any recode.
    base = scorer(categories, embedder, cfg, settings)
    before = ids[int(np.argmax(base.scores(base.encoder.encode([NEAR_DUPLICATE[1]]))[0]))]  # its own encoder
    target = next(
        t for t in by_size if active.loc[t, "category_id"] not in (before, "new") and t not in (merged, moved)
    )
    target_cat = active.loc[target, "category_id"]
    new_cat = next(c for c in ids if c not in set(active["category_id"]))
    reviewed = _write_review(
        tmp_path / "reviewed.xlsx",
        themes=[
            {"theme_id": renamed, "new_label": "Reviewed label"},
            {"theme_id": moved, "new_category": new_cat},
            {"theme_id": merged, "merge_into": into},
        ],
        comments=[{"feedback_id": "c19", "clause_idx": 0, "new_theme": target}],
    )
    with warehouse.connect(settings) as con:
        result = review.import_review(settings, con, reviewed, categories, "review-1")
    assert result.counts["recodes"] == 1
    with warehouse.connect(settings) as con:
        # A refit: the registry maps the new clusters to the old ids; the corrections hold.
        summary = themes.run_themes(settings, con, "fit-2", refit=True, embedder=embedder)
        assert summary["theme_corrections_version"] == 1
        reg2, assigned2 = _themes_of(settings, con)
    assert reg2.loc[renamed, "label"] == "Reviewed label" and reg2.loc[renamed, "status"] == "active"
    assert reg2.loc[moved, "category_id"] == new_cat
    assert (reg2.loc[merged, "status"], reg2.loc[merged, "merged_into"]) == ("merged", into)
    assert merged not in {t for t, _ in assigned2.values()}
    merged_before = {k for k, (t, _) in assigned.items() if t == merged}
    assert merged_before and all(assigned2[k][0] == into for k in merged_before)
    assert assigned2[("c19", 0)] == (target, "reviewer")
    # The recode taught the category classifier: its near-duplicate now goes to the recoded category.
    with warehouse.connect(settings, read_only=True) as con:
        examples = review.reviewed_examples(settings, con)
    assert examples == ((COMMENTS[-1][1], target_cat),)
    taught = scorer(categories, embedder, cfg, settings, examples)
    after = ids[int(np.argmax(taught.scores(taught.encoder.encode([NEAR_DUPLICATE[1]]))[0]))]
    assert before != target_cat and after == target_cat
    # ... and a daily run puts the new near-duplicate comment under a theme of that category.
    with warehouse.connect(settings) as con:
        from benchmarks.themes import load_comments

        load_comments(settings, con, [NEAR_DUPLICATE])
        themes.run_themes(settings, con, "daily-1", refit=False, embedder=embedder)
        reg3, assigned3 = _themes_of(settings, con)
    theme, method = assigned3[("c20", 0)]
    assert reg3.loc[theme, "category_id"] == target_cat and method == "centroid"


def test_feedback_themes_still_runs_the_stage_and_lists_the_review_commands(settings, monkeypatch):
    from typer.testing import CliRunner

    from pipelines.cli import app

    calls = []
    monkeypatch.setenv("FEEDBACK_WAREHOUSE", str(settings.warehouse))
    monkeypatch.setattr(stages, "themes_stage", lambda s, run_id, **kw: calls.append(kw) or {"refitted": kw["refit"]})
    result = CliRunner().invoke(app, ["themes", "--no-refit", "--no-progress", "--wait", "0"])
    assert result.exit_code == 0, result.output
    assert calls == [{"refit": False, "progress": False, "force": False, "workers": None}]
    helped = CliRunner().invoke(app, ["themes", "--help"], env={"COLUMNS": "200"})
    assert helped.exit_code == 0 and "export" in helped.output and "import" in helped.output


def test_a_theme_without_clauses_is_mapped_by_its_centroid_in_the_stage_embedders_space(fitted):
    """Centroids are stage (MiniLM / bag) vectors: a classifier on those maps them, whatever the encoder."""
    from pipelines.themes.model import load_config
    from pipelines.themes.registry import read_registry, remap

    settings = fitted
    cfg = load_config(settings.models_dir / "themes" / "config.yaml")
    categories = review.taxonomy(settings)
    with warehouse.connect(settings) as con:
        before = read_registry(settings, con).set_index("theme_id")
        emptied = before[before["status"] == "active"].sort_values("size", ascending=False).index[0]
        con.execute("delete from enrich.theme_assignments where theme_id = ?", [emptied])
        remap(settings, con, cfg, categories, "edited-taxonomy", _embedder())
        after = read_registry(settings, con).set_index("theme_id")
    assert after.loc[emptied, "category_id"] == before.loc[emptied, "category_id"]
    kinds = {
        json.loads(p.read_text())["encoder_kind"]
        for p in (settings.models_dir / "themes" / "build" / "classifier").glob("*.json")
    }
    assert "minilm" in kinds and cfg["classifier"]["encoder"] in kinds
