"""Measure what `feedback train sentiment` gains with a few hundred organisation labels.

Simulation (documented in MODEL_CARD.md): the "organisation" is the suggestion-card and
complaint set ``data/feedback_labelled_part2.jsonl``, a channel whose labelling (neutral
suggestions, complaint severity) differs from survey answers. A base model is trained
exactly like the default but WITHOUT part 2 (config ``exclude_sources``). Then ``--labels``
part-2 comments (chosen by a seeded shuffle) go through the real path: loaded into a scratch
warehouse, written to a CSV, imported by ``feedback label import``'s code, and used by
``feedback train sentiment``'s code, which splits them 80/20 by feedback id and prints
before/after on the held-out 20%. We also score the part-2 comments that were never
imported (a larger, untouched test set) with both models.

    python models/sentiment/simulate_org.py --labels 400
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import shutil
import sys
from datetime import UTC, datetime
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))

import yaml  # noqa: E402

from pipelines.config import Settings  # noqa: E402
from pipelines.sentiment.base import LABELS5  # noqa: E402
from pipelines.sentiment.build import run_build  # noqa: E402
from pipelines.sentiment.data import TrainConfig, collect_default_data, load_project  # noqa: E402
from pipelines.sentiment.labels import import_labels, organisation_examples  # noqa: E402
from pipelines.sentiment.metrics import score_examples  # noqa: E402
from pipelines.sentiment.organisation import train_with_organisation_labels  # noqa: E402
from pipelines.sentiment.scorer import build_scorer  # noqa: E402
from pipelines.warehouse import apply_schema, connect  # noqa: E402

ORG_FILE = "feedback_labelled_part2.jsonl"


def _scratch_settings(work: Path) -> Settings:
    # A models dir whose config excludes the organisation's channel, and a scratch warehouse.
    models_dir = work / "models"
    sent = models_dir / "sentiment"
    sent.mkdir(parents=True, exist_ok=True)
    if not (sent / "data").exists():
        (sent / "data").symlink_to(HERE / "data", target_is_directory=True)
    raw = yaml.safe_load((HERE / "config.yaml").read_text(encoding="utf-8"))
    raw.setdefault("data", {})["exclude_sources"] = [Path(ORG_FILE).stem]
    (sent / "config.yaml").write_text(yaml.safe_dump(raw, sort_keys=False), encoding="utf-8")
    return Settings.from_env(
        {
            "FEEDBACK_HOME": str(ROOT),
            "FEEDBACK_MODELS_DIR": str(models_dir),
            "FEEDBACK_WAREHOUSE": str(work / "warehouse.duckdb"),
        }
    )


def _load_scratch_warehouse(settings: Settings, org: list) -> None:
    # Scratch data only (not library code): the organisation's comments as ingested + redacted.
    wh = settings.warehouse
    for f in (wh, wh.with_suffix(".duckdb.wal")):
        f.unlink(missing_ok=True)
    now = datetime.now(UTC)
    with connect(settings) as con:
        apply_schema(con, settings)
        for e in org:
            con.execute(
                "insert into raw.feedback (feedback_id, channel, source, source_record_id, question, text, "
                "record_hash, batch_id, ingested_at) values (?, 'suggestion', 'sim', ?, ?, ?, 'h', 'b', ?)",
                [e.id, e.id, e.question, e.text, now],
            )
            con.execute("insert into enrich.redactions values (?, 'h', ?, '{}', 'sim', ?)", [e.id, e.text, now])


def _write_review(path: Path, labelled: list) -> Path:
    # The file a reviewer would hand back: `feedback label export` columns, label filled in.
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["feedback_id", "question", "text", "predicted_label", "label"])
        for e in labelled:
            w.writerow([e.id, e.question, e.text, "", LABELS5[e.label5]])
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--labels", type=int, default=400, help="organisation labels to import")
    parser.add_argument("--work", type=Path, default=HERE / "build" / "org-simulation")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    work = args.work
    settings = _scratch_settings(work)

    # 1. Base model without the organisation's channel.
    sent = settings.models_dir / "sentiment"
    cfg = TrainConfig.from_yaml(sent / "config.yaml")
    sets, hashes = collect_default_data(sent / "data", cfg)
    base = run_build(settings.sentiment_build_dir, sets, hashes, cfg, prefix="simbase", kind="default")

    # 2. The organisation's comments in a scratch warehouse; a reviewer labels --labels of them.
    org = load_project([HERE / "data" / ORG_FILE])
    rng = random.Random(args.seed)
    order = list(range(len(org)))
    rng.shuffle(order)
    labelled = [org[i] for i in order[: args.labels]]
    never_imported = [org[i] for i in order[args.labels :]]
    _load_scratch_warehouse(settings, org)
    stored = import_labels(settings, _write_review(work / "reviewed.csv", labelled), reviewer="simulation").stored

    # 3. `feedback train sentiment` (current = the base model).
    (settings.sentiment_build_dir / "current").write_text(base.version + "\n", encoding="utf-8")
    report = train_with_organisation_labels(settings, organisation_examples(settings), min_labels=50)
    print(report.table())

    # 4. The organisation's comments nobody labelled.
    before = score_examples(build_scorer(base.folder, "onnx"), never_imported)
    after_folder = settings.sentiment_build_dir / report.after_version.split(":")[0]
    after = score_examples(build_scorer(after_folder, "onnx"), never_imported)
    out = {
        "labels_imported": stored,
        "n_org_train": report.n_org_train,
        "n_org_heldout": report.n_org_heldout,
        "base_version": base.version,
        "after_version": report.after_version,
        "org_heldout": {"before": report.before["org_heldout"], "after": report.after["org_heldout"]},
        "org_never_imported": {"n": len(never_imported), "before": before, "after": after},
        "project_heldout_part1_only": {
            "before": report.before["project_heldout"],
            "after": report.after["project_heldout"],
        },
        "drugscom_test": {"before": report.before["drugscom_test"], "after": report.after["drugscom_test"]},
    }
    (HERE / "org_simulation.json").write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(out, indent=1))
    shutil.rmtree(work / "models" / "sentiment" / "build" / ".tmp", ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
