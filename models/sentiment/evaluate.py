"""Evaluate a build in detail: served metrics, per-channel, confusion, mixed-flag rules.

    python models/sentiment/evaluate.py                 # the default build
    python models/sentiment/evaluate.py --build build/<version> --backend onnx-fp32
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
    text = json.dumps(out, indent=1)
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
