"""How much one reviewer recode moves the category classifier (``classifier.reviewer_weight``).

The shipped classifier (MiniLM embeddings, taxonomy examples plus the coded training files) is
refitted with one extra positive: a clause a reviewer recoded to another category, counted
``weight`` times. Reported per weight: how many of the recodes' near-duplicates (a paraphrase the
classifier never saw) now have the reviewer's category as their best one, and the cost, the
share of the coded training comments whose best category changed. The reviewer's category is the
clause's runner-up (a plausible disagreement) or a middle-ranked one (a far one). Thresholds stay
those of the shipped classifier (its cross-validation is not repeated per weight).

    python -m benchmarks.themes_review_weight              # a few minutes on 2 cores (48 refits of the heads)
"""

from __future__ import annotations

import sys
import time

import numpy as np

from pipelines.config import Settings
from pipelines.themes import classifier as clf_mod
from pipelines.themes.context import classifier_embedder, themes_dir
from pipelines.themes.model import load_config, load_taxonomy

# (clause a reviewer recodes, its near-duplicate)
PAIRS = (
    ("the porter left me in the corridor for an hour", "the porter left my dad in the corridor for over an hour"),
    ("nobody told us what was happening with mum", "no one told us what was happening with my father"),
    ("the doctor did not listen to me", "the doctor just would not listen to my concerns"),
    ("had to ask three times for pain relief", "asked several times for pain relief before I got any"),
    ("the ward was too noisy to sleep", "too much noise on the ward at night to get any sleep"),
    ("my appointment letter came after the date", "the letter for my appointment arrived after the appointment date"),
)
WEIGHTS = (1.0, 4.0, 8.0, 16.0)


def main() -> int:
    """Print, per target kind and weight, near-duplicates moved and coded comments changed."""
    settings = Settings.from_env()
    cfg = load_config(themes_dir(settings) / "config.yaml")
    categories = load_taxonomy(themes_dir(settings) / "taxonomy.yaml")
    embedder = classifier_embedder(settings, cfg)
    files = clf_mod.training_files(cfg, themes_dir(settings), settings.home / "models" / "themes")
    coded, cmap = clf_mod.read_training(files)
    t0 = time.perf_counter()
    base = clf_mod.train(categories, embedder, cfg, coded, cmap, settings.seed)
    print(f"shipped classifier trained in {time.perf_counter() - t0:.0f} s on {base.meta['n_coded']} coded comments")
    data, x = clf_mod.training_set(categories, embedder, cfg, coded, cmap)
    pair_emb = embedder.encode([t for pair in PAIRS for t in pair])
    base_scores = base.scores(pair_emb)
    coded_emb = x[data.coded]
    before = base.scores(coded_emb).argmax(axis=1)
    for kind in ("runner-up", "far"):
        for weight in WEIGHTS:
            moved, changed = 0, []
            for i in range(len(PAIRS)):
                order = np.argsort(-base_scores[2 * i])
                target = int(order[1] if kind == "runner-up" else order[len(order) // 2])
                xs = np.vstack([x, pair_emb[2 * i : 2 * i + 1]])
                ys = np.vstack([data.y, np.eye(len(categories), dtype=int)[target][None, :]])
                ws = np.concatenate([data.weight, [weight]])
                coef, intercept = clf_mod._fit_weights(xs, ys, float(cfg["classifier"]["c"]), ws)
                taught = clf_mod.CategoryClassifier(base.ids, coef, intercept, base.thresholds, {}, base.general)
                moved += int(taught.scores(pair_emb[2 * i + 1 : 2 * i + 2]).argmax()) == target
                changed.append(float((taught.scores(coded_emb).argmax(axis=1) != before).mean()))
            print(
                f"{kind:9s} weight {weight:4.0f}: near-duplicates moved {moved}/{len(PAIRS)}; coded comments whose "
                f"best category changed: mean {np.mean(changed):.2%}, max {np.max(changed):.2%}",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
