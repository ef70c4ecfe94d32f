"""Reviewer-loop learning curves on the coded sets the project has, per method (MODEL_CARD.md).

A thin wrapper over ``feedback eval sentiment --simulate-reviewers`` (the library function
:func:`pipelines.sentiment.evaluation.simulate_reviewers`) that runs it on

* ``drugscom_test``: the drugsCom test reviews (379, 3-class labels from the patients'
  ratings; the default never trained on them), and
* ``project_heldout``: the project's own held-out split (5-point labels),

for each method (``finetune``: what ``feedback train sentiment`` does; ``head``: a
logistic-regression head on frozen embeddings), and writes ``org_simulation.json``. The
rows scored at every curve point are never labelled. ``--write-coded DIR`` only writes the
coded sets as CSV, so the same curve can be drawn with the CLI::

    python models/sentiment/simulate_org.py --write-coded /tmp/coded
    feedback eval sentiment /tmp/coded/drugscom_test.csv --text-column text --label-column label \\
        --question-column question --simulate-reviewers 300 --at 100,200,300

    flock /work/wt/heavy.lock nice -n 5 python models/sentiment/simulate_org.py \\
        --sets drugscom_test:300 project_heldout:500 --at 100,200,300,500 --methods finetune head
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

from pipelines.sentiment.data import TrainConfig, collect_default_data  # noqa: E402
from pipelines.sentiment.evaluation import SIM_METHODS, coded_from_examples, simulate_reviewers  # noqa: E402
from pipelines.sentiment.pointers import DEFAULT_FILE, current_build  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sets", nargs="+", default=["drugscom_test:300", "project_heldout:500"], metavar="SET:N")
    parser.add_argument("--at", default="100,200,300,500", help="label counts of the curve (those <= N per set)")
    parser.add_argument("--methods", nargs="+", default=list(SIM_METHODS), choices=SIM_METHODS)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--replay-ratio", type=float, default=1.0, help="finetune: shipped examples per label")
    parser.add_argument("--epochs", type=int, help="finetune: most epochs (default: the library's)")
    parser.add_argument("--lr-scale", type=float, help="finetune: learning rate relative to config.yaml's")
    parser.add_argument("--build-dir", type=Path, default=HERE / "build")
    parser.add_argument("--out", type=Path, default=HERE / "org_simulation.json")
    parser.add_argument("--write-coded", type=Path, help="only write the coded sets as CSV into this folder")
    args = parser.parse_args(argv)

    cfg = TrainConfig.from_yaml(HERE / "config.yaml")
    sets, _ = collect_default_data(HERE / "data", cfg)
    if args.write_coded:
        args.write_coded.mkdir(parents=True, exist_ok=True)
        for name in ("drugscom_test", "project_heldout"):
            coded_from_examples(sets[name]).frame.to_csv(args.write_coded / f"{name}.csv", index=False)
            print(args.write_coded / f"{name}.csv")
        return 0
    build = current_build(args.build_dir, DEFAULT_FILE)
    if build is None:
        raise SystemExit("no default sentiment build: run `make models` first")
    runs = []
    for spec in args.sets:
        name, _, n = spec.partition(":")
        n_labels = int(n)
        points = [p for p in (int(x) for x in args.at.split(",")) if p <= n_labels]
        for method in args.methods:
            print(f"{name}: {method}, up to {n_labels} labels", flush=True)
            started = time.perf_counter()
            curve = simulate_reviewers(
                coded_from_examples(sets[name]),
                build,
                n_labels,
                points=points,
                seed=args.seed,
                method=method,
                replay_ratio=args.replay_ratio,
                epochs=args.epochs,
                lr_scale=args.lr_scale,
            )
            runs.append(
                {
                    "coded_set": name,
                    "method": method,
                    "n_labels": n_labels,
                    "seed": args.seed,
                    "replay_ratio": args.replay_ratio,
                    "epochs": args.epochs,
                    "lr_scale": args.lr_scale,
                    "seconds": round(time.perf_counter() - started),
                    "curve": curve,
                }
            )
    command = "python models/sentiment/simulate_org.py " + " ".join(argv or sys.argv[1:])
    result = {"build": build.name, "command": command}
    args.out.write_text(json.dumps({**result, "runs": runs}, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
