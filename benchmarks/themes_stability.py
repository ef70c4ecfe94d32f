"""Theme-id stability across a refit with new data (issue 14: >= 90% of clauses keep their theme).

Fits themes on ``n`` comments (the demo generator's free text, as ``python -m benchmarks.themes
scale``), then adds ``new_share`` x n further comments and refits. Reports the share of the
first run's clauses (primary theme, outliers included as "no theme") whose theme id is the same
after the refit, plus theme counts (kept, new, retired) of the second run.

    python -m benchmarks.themes_stability --n 10000 --new-share 0.10
    python -m benchmarks.themes_stability --n 10000 --new-share 0.10 --plant-new-topic

``--plant-new-topic`` makes part of the new comments (``PLANT_SHARE`` of them) about a topic the
demo generator never writes about (a self check-in kiosk), so that the figures also show whether
a genuinely new topic still gets a theme of its own rather than being frozen into old ones.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from benchmarks.themes import bench_settings, load_comments, synthetic_comments
from pipelines import warehouse
from pipelines.config import Settings

# A topic absent from the demo generator's phrase banks: 6 x 10 x 6 distinct clauses.
_KIOSK = (
    "the self check-in kiosk",
    "the check-in touchscreen at reception",
    "the new check-in machine",
    "the arrival kiosk in outpatients",
    "the self-service check-in screen",
    "the digital check-in point",
)
_FAULT = (
    "kept freezing",
    "would not read my barcode",
    "did not recognise my date of birth",
    "crashed twice",
    "was out of order",
    "rejected my appointment letter",
    "timed out before I finished",
    "could not find my booking",
    "showed an error message",
    "logged me in as someone else",
)
_TAIL = (
    "",
    " so I had to queue at the desk",
    " and nobody was around to help",
    " which was frustrating",
    " and the staff said it happens every day",
    " for the third visit running",
)
PLANT_SHARE = 0.15


def planted_comments(n: int, seed: int) -> list[tuple[str, str]]:
    """``n`` comments (ids ``p...``) about a self check-in kiosk, a topic new to the demo data."""
    rng = random.Random(seed)
    out = []
    for i in range(n):
        text = f"{rng.choice(_KIOSK)} {rng.choice(_FAULT)}{rng.choice(_TAIL)}."
        out.append((f"p{i:07d}", text[0].upper() + text[1:]))
    return out


def planted_summary(after: pd.DataFrame, old_ids: set[str]) -> dict[str, Any]:
    """Where the planted clauses went: their most common theme, whether it is new, its purity."""
    planted = after[after["feedback_id"].str.startswith("p")]
    themed = planted["theme_id"].dropna()
    if themed.empty:
        return {"clauses": len(planted), "theme": None}
    top = str(themed.value_counts().index[0])
    members = after[after["theme_id"] == top]
    return {
        "clauses": len(planted),
        "theme": top,
        "theme_is_new": top not in old_ids,
        "share_of_planted": round(float((planted["theme_id"] == top).mean()), 4),
        "theme_purity": round(float(members["feedback_id"].str.startswith("p").mean()), 4),
    }


def _primary(con: Any, settings: Settings) -> pd.DataFrame:
    frame = warehouse.run_sql(con, settings, "queries/benchmarks/themes_comment_themes").df()
    return frame[frame["theme_rank"] == 1][["feedback_id", "clause_idx", "theme_id"]]


def kept_share(before: pd.DataFrame, after: pd.DataFrame) -> float:
    """Share of ``before``'s clauses whose (primary) theme id is unchanged in ``after``."""
    m = before.merge(after, on=["feedback_id", "clause_idx"], how="left", suffixes=("_a", "_b"))
    return float((m["theme_id_a"].fillna("-") == m["theme_id_b"].fillna("-")).mean()) if len(m) else 0.0


def stability(
    settings: Settings, n: int = 10000, new_share: float = 0.10, seed: int = 42, plant: bool = False
) -> dict[str, Any]:
    """Refit on ``n`` comments, then on ``n * (1 + new_share)``; share of clauses keeping their theme.

    With ``plant`` a ``PLANT_SHARE`` of the new comments are about a topic new to the data.
    """
    from pipelines.themes import stage as themes

    tmp = Path(tempfile.mkdtemp(prefix="themes-stability-"))
    comments = synthetic_comments(int(round(n * (1 + new_share))), seed, settings)
    first, extra = comments[:n], comments[n:]
    if plant:
        k = int(round(PLANT_SHARE * len(extra)))
        extra = extra[: len(extra) - k] + planted_comments(k, seed)
    out: dict[str, Any] = {"n_comments": n, "new_comments": len(extra)}
    try:
        bench = bench_settings(settings, tmp)
        with warehouse.connect(bench) as con:
            warehouse.apply_schema(con, bench)
            out["clauses_first"] = load_comments(bench, con, first)
            t = time.perf_counter()
            s1 = themes.run_themes(bench, con, "stab-1", refit=True)
            out["first_refit_s"] = round(time.perf_counter() - t, 1)
            before = _primary(con, bench)
            old_ids = set(before["theme_id"].dropna())
            load_comments(bench, con, extra)
            t = time.perf_counter()
            s2 = themes.run_themes(bench, con, "stab-2", refit=True)
            out["second_refit_s"] = round(time.perf_counter() - t, 1)
            after = _primary(con, bench)
        out["kept_share"] = round(kept_share(before, after), 4)
        out["themed_kept_share"] = round(kept_share(before[before["theme_id"].notna()], after), 4)
        out["first"] = {k: s1[k] for k in ("n_themes", "outlier_share")}
        if plant:
            out["planted"] = planted_summary(after, old_ids)
        out["second"] = {k: s2[k] for k in ("n_themes", "new_themes", "kept_themes", "retired_themes", "outlier_share")}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """Print the stability figures as JSON."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.themes_stability", description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=10000)
    parser.add_argument("--new-share", type=float, default=0.10)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--plant-new-topic", action="store_true", help="make part of the new comments a new topic")
    args = parser.parse_args(argv)
    out = stability(Settings.from_env(), args.n, args.new_share, args.seed, args.plant_new_topic)
    print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
