"""Evaluate a build in detail: served metrics, per-channel, confusion, mixed-flag rules.

    python models/sentiment/evaluate.py                 # the default build
    python models/sentiment/evaluate.py --build build/<version> --backend onnx-fp32
    python models/sentiment/evaluate.py --build build/<version> --rating-modes   # rating as input / feature / none
Writes the JSON to stdout (and --out FILE). The project held-out set is scored with the
respondents' ratings where they exist (``project_heldout``) and without (``_text_only``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

from pipelines.sentiment.base import LABELS3, LABELS5  # noqa: E402
from pipelines.sentiment.data import TrainConfig, collect_default_data  # noqa: E402
from pipelines.sentiment.evaluation import headline_metrics  # noqa: E402
from pipelines.sentiment.metrics import binary_prf, classification_metrics, clause_mixed, confusion3  # noqa: E402
from pipelines.sentiment.pointers import DEFAULT_FILE, current_build  # noqa: E402
from pipelines.sentiment.scorer import build_scorer  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build", type=Path, default=None)
    parser.add_argument("--backend", default="onnx")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument(
        "--rating-modes",
        action="store_true",
        help="also compare the rating as model input, text only and the rating as a feature (same build)",
    )
    parser.add_argument(
        "--table-exclude",
        action="append",
        default=[],
        metavar="SOURCE",
        help="with --rating-modes: leave training rows whose source starts with this out of the likelihood table "
        "(a build trained before that part existed), e.g. feedback_labelled_part4c",
    )
    args = parser.parse_args(argv)
    build = args.build or current_build(HERE / "build", DEFAULT_FILE)
    if build is None:
        raise SystemExit("no build: run models/sentiment/train.py")
    # Evaluate every build on today's data and split (older builds lack newer config keys).
    cfg = TrainConfig.from_yaml(HERE / "config.yaml")
    sets, _ = collect_default_data(HERE / "data", cfg)
    scorer = build_scorer(build, args.backend)
    out: dict = {"version": scorer.version}
    for name in ("project_heldout", "project_heldout_text_only", "drugscom_test"):
        exs = sets[name]
        res = scorer.score([e.text for e in exs], [e.question for e in exs], ratings=[e.rating for e in exs])
        pred3 = [LABELS3.index(r.label3) for r in res]
        pred5 = [LABELS5.index(r.label5) for r in res]
        out[name] = classification_metrics(exs, pred5, pred3)
        out[name]["negative_recall"] = headline_metrics([e.label3 for e in exs], pred3, [], pred5)["negative_recall"]
        out[name]["confusion3_rows_gold_neg_neu_pos"] = confusion3([e.label3 for e in exs], pred3)
        if name == "project_heldout":
            by: dict[str, list[int]] = {}
            for i, e in enumerate(exs):
                by.setdefault(e.source, []).append(i)
            out[name]["by_source"] = {
                k: classification_metrics([exs[i] for i in v], [pred5[i] for i in v], [pred3[i] for i in v])
                for k, v in sorted(by.items())
            }
            gold = [bool(e.mixed) for e in exs]
            prob_rule = [r.is_mixed for r in res]
            clause_rule = clause_mixed(scorer.probabilities, exs)
            either = [a or b for a, b in zip(prob_rule, clause_rule, strict=True)]
            out["mixed_heldout"] = {
                "base_rate": round(sum(gold) / len(gold), 4),
                f"served_is_mixed_{scorer.mixed_rule}": binary_prf(gold, prob_rule),
                "clause_rule": binary_prf(gold, clause_rule),
                "either": binary_prf(gold, either),
            }
    if args.rating_modes:
        out["rating_modes"] = rating_modes(scorer, sets, args.table_exclude)
    text = json.dumps(out, indent=1)
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    return 0


def rating_modes(scorer, sets: dict, exclude: list[str]) -> dict:
    """Held-out metrics of one build's model with the rating as input, without it, and as a feature.

    Model only plus the no-content rule (no clause rule needed: labels do not depend on it). The
    feature's likelihood table is counted on the project training rows, as ``train.py`` does.
    """
    from pipelines.sentiment.data import model_inputs, without_ratings
    from pipelines.sentiment.metrics import evaluate_probs
    from pipelines.sentiment.rating import apply_rating, rating_likelihoods

    held = sets["project_heldout"]
    rated = [i for i, e in enumerate(held) if e.rating is not None]
    table = rating_likelihoods([e for e in sets["project_train"] if not any(e.source.startswith(x) for x in exclude)])
    text_only = scorer._predict(*model_inputs(without_ratings(held)))
    modes = {
        "rating_as_input": scorer._predict(*model_inputs(held)),
        "text_only": text_only,
        "rating_as_feature": apply_rating(text_only, [e.rating for e in held], table),
    }
    out = {}
    for name, probs in modes.items():
        out[name] = {
            "all": evaluate_probs(held, probs, scorer.mixed_threshold),
            "rated": evaluate_probs([held[i] for i in rated], probs[rated], scorer.mixed_threshold),
        }
    return out


if __name__ == "__main__":
    raise SystemExit(main())
