"""CLI commands for sentiment: reviewer labels, training, scoring a file, benchmark.

``register(app)`` adds to the ``feedback`` CLI::

    feedback label export --n 200 --out review/batch1     # CSV + XLSX for reviewers
    feedback label import review/batch1.xlsx              # validated, stored in the warehouse
    feedback train sentiment                              # new version with organisation labels
    feedback score-file comments.csv --text-column answer --question-column question --out scored.csv
    feedback bench sentiment                              # comments/s vs naive and vs the CPU bound
    feedback eval sentiment coded.csv --text-column answer --label-column code \
        --question-column question --rating-column fft --out disagreements.csv
    feedback eval sentiment coded.csv --text-column answer --label-column code --simulate-reviewers 500
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from pipelines.cli.pipeline import DEFAULT_WAIT, Wait

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

label_app = typer.Typer(
    help="Reviewer labels that teach the sentiment model your organisation's feedback (active learning).",
    no_args_is_help=True,
)
train_app = typer.Typer(help="Train models on shipped data plus your reviewers' labels.", no_args_is_help=True)
bench_app = typer.Typer(help="Benchmarks that print speed tables (not tests).", no_args_is_help=True)


def _fail(message: str) -> None:
    typer.secho(message, fg=typer.colors.RED, err=True)
    raise typer.Exit(code=1)


@label_app.command("export")
def label_export(
    n: Annotated[int, typer.Option("--n", min=1, help="How many comments to export for review (e.g. 200).")] = 200,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Output file; both OUT.csv and OUT.xlsx are written (the suffix you give is replaced). "
            "Default: $FEEDBACK_REPORTS_DIR/labels/to_review.",
        ),
    ] = None,
    uncertain_share: Annotated[
        float,
        typer.Option(
            "--uncertain-share",
            min=0.0,
            max=1.0,
            help="Share of the rows chosen because the model is unsure; the rest are representative comments.",
        ),
    ] = 0.5,
) -> None:
    """Export N comments for reviewers to label: uncertain and representative ones, one per near-duplicate.

    Half (--uncertain-share) are the comments whose two most probable classes are closest
    (the model is unsure), the rest the comment nearest the centre of each cluster of
    sentence embeddings of the unlabelled comments (what the organisation's feedback
    typically says). Near-duplicates (same normalised text, or embeddings with cosine
    similarity >= 0.9) are exported once. Writes feedback_id, question, the PHI-redacted
    text, the predicted label and an empty 'label' column (XLSX has a drop-down). Reviewers
    fill 'label' with very negative | negative | neutral | positive | very positive (or 1-5)
    following models/sentiment/CODING.md, leave rows blank to skip them, then run
    `feedback label import FILE`. Two reviewers labelling copies of the same file measure
    their agreement with `feedback label import FILE_A FILE_B`.
    """
    from pipelines.config import get_settings
    from pipelines.exports import ExportBlocked
    from pipelines.privacy.scan import ExportScan
    from pipelines.sentiment.base import SentimentModelError
    from pipelines.sentiment.labels import LabelImportError, default_embedder, export_for_review
    from pipelines.sentiment.scorer import load_scorer
    from pipelines.warehouse import WarehouseError, connect

    settings = get_settings()
    out = out or settings.reports_dir / "labels" / "to_review"
    try:
        scorer = load_scorer(settings)
        embed = default_embedder() if uncertain_share < 1.0 else None
        with connect(settings, read_only=True) as con:  # the final privacy scan, as for the reports
            guard = ExportScan(settings, con, "label-export", root=out.parent, record=False)
        res = export_for_review(settings, scorer, n, out, embed=embed, uncertain_share=uncertain_share, guard=guard)
    except (LabelImportError, SentimentModelError, WarehouseError, ExportBlocked) as exc:
        _fail(str(exc))
    typer.echo(
        f"exported {res.rows} comments for review (model {scorer.version}): {res.uncertain} uncertain, "
        f"{res.representative} representative, {res.duplicates_skipped} near-duplicates skipped\n"
        f"  {res.csv_path}\n  {res.xlsx_path}"
    )
    typer.echo(
        "Code them with models/sentiment/CODING.md, fill 'label', then: feedback label import " + str(res.xlsx_path)
    )


@label_app.command("import")
def label_import(
    file: Annotated[Path, typer.Argument(help="A reviewed .csv or .xlsx from `feedback label export`.")],
    second: Annotated[
        Path | None,
        typer.Argument(help="Optional: a second reviewer's copy of the same rows (agreement is reported)."),
    ] = None,
    reviewer: Annotated[
        list[str] | None,
        typer.Option("--reviewer", help="Who labelled the file (kept with each label); give it twice for two files."),
    ] = None,
    disagreements: Annotated[
        Path | None,
        typer.Option(
            "--disagreements",
            help="With two files: CSV of the rows they label differently (default: next to the first file).",
        ),
    ] = None,
    wait: Wait = DEFAULT_WAIT,
) -> None:
    """Validate and store reviewers' labels (all rows or none).

    Each non-blank 'label' must be one of the five names or 1-5 and each feedback_id must
    exist in the warehouse; otherwise nothing is stored and every bad row is listed by its
    row number (header = row 1). Importing a comment again replaces its label.

    With two files (two reviewers' copies of the same export) it prints Cohen's kappa
    (5- and 3-class) on the rows both labelled, stores the rows they agree on (and rows only
    one of them labelled), and writes the rows they disagree on to a CSV: settle those and
    import the settled file.
    """
    from pipelines.config import get_settings
    from pipelines.exports import write_csv
    from pipelines.sentiment.labels import LabelImportError, import_labels, import_two_reviewers, label_counts
    from pipelines.warehouse import WarehouseError, run_lock

    settings = get_settings()
    names = list(reviewer or [])
    if len(names) > (2 if second else 1):
        _fail("give --reviewer once per file")
    try:
        # A writer outside the pipeline's stages: it takes the run lock a run holds.
        with run_lock(settings, timeout=wait, on_wait=lambda m: typer.secho(m, fg=typer.colors.YELLOW, err=True)):
            if second is None:
                result = import_labels(settings, file, names[0] if names else None)
            else:
                pair = (names[0] if names else None, names[1] if len(names) > 1 else None)
                result, agreement = import_two_reviewers(settings, file, second, pair)
                typer.echo(agreement.table((pair[0] or file.name, pair[1] or second.name)))
                target = disagreements or file.with_name(f"{file.stem}.disagreements.csv")
                write_csv(agreement.disagreements, target)
                typer.echo(f"rows they disagree on (not stored; settle and import them) -> {target}")
        counts = label_counts(settings)
    except (LabelImportError, WarehouseError) as exc:
        _fail(str(exc))
    typer.echo(
        f"stored {result.stored} labels from {file}{' and ' + str(second) if second else ''} "
        f"(batch {result.batch}); {result.skipped_blank} blank rows skipped"
    )
    typer.echo("labels in the warehouse: " + ", ".join(f"{k}={v}" for k, v in counts.items()))
    typer.echo("Next: feedback train sentiment")


@train_app.command("sentiment")
def train_sentiment(
    min_labels: Annotated[
        int, typer.Option("--min-labels", help="Refuse to train with fewer organisation labels than this.")
    ] = 50,
    epochs: Annotated[
        int | None,
        typer.Option(
            "--epochs",
            help="Most epochs of continued fine-tuning (default 4); with --method retrain, "
            "the epochs of models/sentiment/config.yaml.",
        ),
    ] = None,
    method: Annotated[
        str,
        typer.Option(
            "--method",
            help="finetune: continue fine-tuning the shipped default on your labels (about a minute per few "
            "hundred labels); retrain: train from the base encoder on shipped data plus your labels (slow).",
        ),
    ] = "finetune",
    activate: Annotated[
        bool,
        typer.Option(
            "--activate/--no-activate",
            help="Point build/current at the new version so the pipeline re-scores with it (default: yes).",
        ),
    ] = True,
) -> None:
    """A new sentiment version that has learned your organisation's labels.

    The organisation labels are split 80/20 by feedback_id; the 20% are held out. By default
    the shipped model is fine-tuned further on the 80% (with as many shipped examples
    replayed, so it keeps what it knew), and the epoch that scores best on the held-out 20%
    is kept. Prints accuracy and macro-F1 (3- and 5-class) on the held-out split for the model
    in use before and for the new one, plus the shipped held-out sets as a regression check.
    The new version goes to models/sentiment/build/<version>/ (its manifest.json records the
    method, the label count and their sha256) and becomes current, so the next pipeline run
    re-scores.
    """
    from pipelines.config import get_settings
    from pipelines.sentiment.base import SentimentModelError
    from pipelines.sentiment.labels import organisation_examples
    from pipelines.sentiment.organisation import ORG_METHODS, OrgTrainingError, train_with_organisation_labels
    from pipelines.warehouse import WarehouseError

    if method not in ORG_METHODS:
        _fail(f"unknown --method {method!r}: use one of {', '.join(ORG_METHODS)}")
    settings = get_settings()
    try:
        examples = organisation_examples(settings)
        report = train_with_organisation_labels(
            settings,
            examples,
            min_labels=min_labels,
            epochs=epochs,
            method=method,
            activate=activate,
            log=typer.echo,
        )
    except (OrgTrainingError, SentimentModelError, WarehouseError, FileNotFoundError) as exc:
        _fail(str(exc))
    typer.echo(report.table())


def score_file(
    input_csv: Annotated[Path, typer.Argument(help="CSV with one comment per row (UTF-8).")],
    text_column: Annotated[str, typer.Option("--text-column", help="Column holding the comment text.")],
    out: Annotated[Path, typer.Option("--out", help="Where to write the scored CSV (all input columns kept).")],
    question_column: Annotated[
        str | None,
        typer.Option(
            "--question-column",
            help="Column holding the question each comment answers. Strongly recommended: 'Nothing' "
            "under 'What could we improve?' is positive, under 'What was good?' negative.",
        ),
    ] = None,
    rating_column: Annotated[
        str | None,
        typer.Option("--rating-column", help="Column holding the respondent's own rating (context for the model)."),
    ] = None,
    rating_scale: Annotated[
        str, typer.Option("--rating-scale", help="Scale of --rating-column (as for `feedback eval sentiment`).")
    ] = "fft5",
) -> None:
    """Score any CSV of comments with the configured sentiment model.

    Adds sentiment_label (5-point), sentiment3 (negative/neutral/positive), sentiment_score
    (-1..1), sentiment_confidence, is_mixed, is_informative and sentiment_model_version.
    Writes a formula-safe UTF-8 CSV: a cell starting with =, +, - or @ gets a leading
    apostrophe, so spreadsheets show it as text instead of running it.
    Model and backend come from FEEDBACK_SENTIMENT_MODEL / FEEDBACK_SENTIMENT_BACKEND.
    """
    import pandas as pd

    from pipelines.config import get_settings
    from pipelines.exports import write_csv
    from pipelines.sentiment.base import SentimentModelError
    from pipelines.sentiment.scorer import load_scorer

    try:
        frame = pd.read_csv(input_csv, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        _fail(f"cannot read {input_csv}: {exc}")
    for col in (text_column, question_column, rating_column):
        if col is not None and col not in frame.columns:
            _fail(f"{input_csv} has no column {col!r}; columns: {', '.join(frame.columns)}")
    ratings = None
    if rating_column is not None:
        parsed = _rating_parser(rating_scale)(frame[rating_column].astype("string"))
        ratings = [None if pd.isna(v) else float(v) for v in parsed.tolist()]
    try:
        scorer = load_scorer(get_settings())
    except SentimentModelError as exc:
        _fail(str(exc))
    texts = frame[text_column].tolist()
    questions = frame[question_column].tolist() if question_column else None
    results = scorer.score(texts, questions, progress=len(texts) > 5000, ratings=ratings)
    frame["sentiment_label"] = [r.label5 for r in results]
    frame["sentiment3"] = [r.label3 for r in results]
    frame["sentiment_score"] = [round(r.score, 4) for r in results]
    frame["sentiment_confidence"] = [round(r.confidence, 4) for r in results]
    frame["is_mixed"] = [r.is_mixed for r in results]
    frame["is_informative"] = [r.is_informative for r in results]
    frame["sentiment_model_version"] = scorer.version
    write_csv(frame, out)
    counts = frame["sentiment3"].value_counts().to_dict()
    typer.echo(f"scored {len(frame)} rows with {scorer.version} -> {out} ({counts})")


@bench_app.command("sentiment")
def bench_sentiment(
    n: Annotated[int, typer.Option("--n", min=100, help="Number of comments (same set for every contender).")] = 2000,
    skip_naive: Annotated[
        bool, typer.Option("--skip-naive", help="Skip the slow per-comment transformers pipeline baseline.")
    ] = False,
    json_out: Annotated[
        Path | None, typer.Option("--json", help="Also write the results as JSON to this file.")
    ] = None,
) -> None:
    """Print comments/s: naive per-comment pipeline, ours torch, ONNX fp32, ONNX int8, CPU bound.

    All contenders score the same N comments (project labelled sets + drugsCom, repeated
    and trimmed deterministically). The fp32 compute bound is non-embedding parameters x 2
    x tokens against a measured matmul GFLOP/s. Targets (printed met or NOT met): int8
    >= 150 comments/s and >= 10x naive.
    """
    from benchmarks.sentiment import run_bench
    from pipelines.config import get_settings
    from pipelines.sentiment.base import SentimentModelError

    try:
        result = run_bench(get_settings(), n=n, naive=not skip_naive, log=typer.echo)
    except (SentimentModelError, FileNotFoundError) as exc:
        _fail(str(exc))
    typer.echo(result.table())
    if json_out is not None:
        json_out.parent.mkdir(parents=True, exist_ok=True)
        json_out.write_text(result.to_json(), encoding="utf-8")


def _rating_parser(scale: str) -> Callable[[pd.Series], pd.Series]:
    # Raw ratings -> 0..1 (1 = best) with the ingest's own scale definitions (parse at the edge).
    import pandas as pd

    if scale == "value":
        return lambda raw: pd.to_numeric(raw, errors="coerce").where(lambda v: v.between(0, 1))
    from pipelines.sources.scales import SCALES

    if scale not in SCALES:
        _fail(f"unknown rating scale {scale!r}: use one of {', '.join([*SCALES, 'value'])}")
    return lambda raw: SCALES[scale].parse(raw)[1]


def eval_sentiment(  # long: typer options and their help are most of it
    coded_file: Annotated[Path, typer.Argument(help="Coded comments: CSV (UTF-8) or JSONL, one comment per row.")],
    text_column: Annotated[str, typer.Option("--text-column", help="Column holding the comment text.")],
    label_column: Annotated[
        str,
        typer.Option(
            "--label-column",
            help="Column holding the coder's label: 1-5, very negative .. very positive, or "
            "negative/neutral/positive (then only 3-class figures). Blank rows are skipped.",
        ),
    ],
    question_column: Annotated[
        str | None, typer.Option("--question-column", help="Column holding the question each comment answers.")
    ] = None,
    rating_column: Annotated[
        str | None, typer.Option("--rating-column", help="Column holding the respondent's own rating.")
    ] = None,
    rating_scale: Annotated[
        str,
        typer.Option(
            "--rating-scale",
            help="Scale of --rating-column: fft5 (Very good .. Very poor or codes 1-6), nps11, rating0_10, "
            "hcahps4, recommend4, likert5, or value (already 0..1, 1 = best).",
        ),
    ] = "fft5",
    rating_scale_column: Annotated[
        str | None,
        typer.Option(
            "--rating-scale-column",
            help="Instead of --rating-scale: a column naming each row's scale as the project's labelled data "
            "does (fft 1-6, nps 0-10, hcahps 0-10, stars 1-5, none).",
        ),
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="CSV of the rows where model and coder disagree (default: next to the file)."),
    ] = None,
    simulate_reviewers: Annotated[
        int,
        typer.Option(
            "--simulate-reviewers",
            min=0,
            help="Instead: a learning curve from 0 to N reviewer labels (the model fine-tuned further on the "
            "first k coded rows, scored on rows never labelled). Slow: one short fine-tune per step.",
        ),
    ] = 0,
    steps: Annotated[int, typer.Option("--steps", min=1, help="Points on the learning curve after 0.")] = 4,
    at: Annotated[
        str | None,
        typer.Option("--at", help="Instead of --steps: label counts of the curve, e.g. 100,200,500 (0 is added)."),
    ] = None,
    seed: Annotated[int, typer.Option("--seed", help="Seed of the shuffle that picks the labelled rows.")] = 13,
    method: Annotated[
        str,
        typer.Option(
            "--method",
            help="With --simulate-reviewers: finetune (what `feedback train sentiment` does) or head "
            "(a logistic-regression head on the model's frozen embeddings, for comparison).",
        ),
    ] = "finetune",
    curve_json: Annotated[
        Path | None, typer.Option("--json", help="With --simulate-reviewers: also write the curve as JSON here.")
    ] = None,
) -> None:
    """Measure the sentiment model on your own coded comments.

    Prints 3-class macro-F1, accuracy and negative recall (5-class figures when every label is
    1-5 or a 5-point name), the per-class table and the confusion matrix, and writes the rows
    where model and coder disagree to a CSV for review. Code labels with models/sentiment/CODING.md.
    """
    from pipelines.config import get_settings
    from pipelines.exports import write_csv
    from pipelines.sentiment.base import SentimentModelError
    from pipelines.sentiment.evaluation import CodedFileError, evaluate_coded, per_row_ratings, read_coded
    from pipelines.sentiment.evaluation import simulate_reviewers as simulate
    from pipelines.sentiment.pointers import DEFAULT_FILE, current_build
    from pipelines.sentiment.scorer import load_scorer

    parser = _rating_parser(rating_scale) if rating_column and not rating_scale_column else None
    try:
        coded = read_coded(coded_file, text_column, label_column, question_column, rating_column, parser)
        if rating_column and rating_scale_column:
            coded.ratings = per_row_ratings(coded.frame, rating_column, rating_scale_column)
    except CodedFileError as exc:
        _fail(str(exc))
    settings = get_settings()
    if simulate_reviewers:
        build = current_build(settings.sentiment_build_dir, DEFAULT_FILE)  # where `train sentiment` starts
        if build is None:
            _fail("no sentiment model is built: run `make models` first")
        try:
            points = [int(x) for x in at.split(",") if x.strip()] if at else None
            curve = simulate(
                coded, build, simulate_reviewers, steps=steps, points=points, seed=seed, method=method, log=typer.echo
            )
        except (CodedFileError, FileNotFoundError, ValueError) as exc:
            _fail(str(exc))
        if curve_json is not None:
            curve_json.parent.mkdir(parents=True, exist_ok=True)
            curve_json.write_text(json.dumps({"coded_file": str(coded_file), "curve": curve}, indent=1) + "\n")
        return
    try:
        result = evaluate_coded(coded, load_scorer(settings), progress=len(coded.texts) > 5000)
    except SentimentModelError as exc:
        _fail(str(exc))
    typer.echo(result.table())
    target = out or coded_file.with_name(f"{coded_file.stem}.disagreements.csv")
    write_csv(result.disagreements, target)
    typer.echo(f"\n{len(result.disagreements)} disagreements (3-class) -> {target}")


def _eval_group(app: typer.Typer) -> typer.Typer:
    # `feedback eval` is shared with other stages (eval themes): join the group if it exists.
    for group in app.registered_groups:
        if group.name == "eval" and group.typer_instance is not None:
            return group.typer_instance
    group_app = typer.Typer(help="Evaluate stages against coded data.", no_args_is_help=True)
    app.add_typer(group_app, name="eval")
    return group_app


def register(app: typer.Typer) -> None:
    """Add the sentiment commands to the ``feedback`` CLI app."""
    app.add_typer(label_app, name="label")
    app.add_typer(train_app, name="train")
    app.add_typer(bench_app, name="bench")
    app.command("score-file")(score_file)
    _eval_group(app).command("sentiment")(eval_sentiment)
