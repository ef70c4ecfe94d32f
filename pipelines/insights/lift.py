"""Segment lift: is a theme concentrated in a segment compared with the rest of its segment type?"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from pipelines.insights.significance import bh_qvalues, fisher_greater
from pipelines.insights.units import unit_meta, with_unit_columns

__all__ = ["LIFT_COLUMNS", "LIFT_METHOD", "segment_lift"]

LIFT_METHOD = "fisher_one_sided"

# Columns of enrich.segment_lift after run_id, in order.
LIFT_COLUMNS = [
    "level",
    "category_id",
    "theme_id",
    "segment_type",
    "segment_value",
    "n",
    "share_in_segment",
    "share_elsewhere",
    "lift",
    "p_value",
    "q_value",
    "total",
    "count_elsewhere",
    "total_elsewhere",
    "is_significant",
    "mention",
    "method",
]


def segment_lift(counts: pd.DataFrame, cfg: Mapping[str, Any]) -> pd.DataFrame:
    """Theme concentration per segment versus the rest of the segment type, BH-corrected.

    Args:
        counts: one row per (segment_type, segment_value, theme_id) with ``comments_any`` and
            ``comments_negative``; rows with a null ``theme_id`` hold the segment's informative
            comments.
        cfg: the ``lift`` section of the insights config.

    Returns:
        One row per tested (theme, segment): n (theme comments in the segment), total,
        share_in_segment, count_elsewhere, total_elsewhere, share_elsewhere, lift, p_value,
        q_value, is_significant, mention, method.
    """
    column = "comments_negative" if cfg["mention"] == "negative" else "comments_any"
    frame = with_unit_columns(counts)
    frame = frame[frame["segment_type"].isin(cfg["segments"])]
    totals = frame[frame["theme_id"].isna()][["segment_type", "segment_value", "comments_any"]]
    totals = totals.rename(columns={"comments_any": "total"})
    themed = frame[frame["theme_id"].notna()][["segment_type", "segment_value", "theme_id", column]]
    themed = themed.rename(columns={column: "n"})
    if totals.empty or themed.empty:
        return pd.DataFrame(columns=LIFT_COLUMNS)
    grid = _eligible_grid(totals, themed, cfg)
    grid["share_in_segment"] = grid["n"] / grid["total"]
    grid["share_elsewhere"] = grid["count_elsewhere"] / grid["total_elsewhere"]
    with np.errstate(divide="ignore", invalid="ignore"):
        grid["lift"] = np.where(grid["share_elsewhere"] > 0, grid["share_in_segment"] / grid["share_elsewhere"], np.nan)
    grid["p_value"] = fisher_greater(
        grid["n"].to_numpy(),
        grid["total"].to_numpy(),
        grid["count_elsewhere"].to_numpy(),
        grid["total_elsewhere"].to_numpy(),
    )
    grid["q_value"] = bh_qvalues(grid["p_value"].to_numpy())
    grid["is_significant"] = (
        (grid["q_value"] <= cfg["alpha"])
        & (grid["n"] >= cfg["min_theme_comments"])
        & (grid["lift"].isna() | (grid["lift"] >= cfg["min_lift"]))
    )
    grid["mention"] = cfg["mention"]
    grid["method"] = LIFT_METHOD
    grid = grid.merge(unit_meta(frame[frame["theme_id"].notna()]), on="theme_id", how="left")
    return grid.sort_values(["q_value", "lift"], ascending=[True, False], ignore_index=True)


def _eligible_grid(totals: pd.DataFrame, themed: pd.DataFrame, cfg: Mapping[str, Any]) -> pd.DataFrame:
    """Every theme x segment of its segment type, with counts here and elsewhere, if big enough."""
    # Zero-fill: every theme seen in a segment type is tested in every value of that type.
    pairs = themed[["segment_type", "theme_id"]].drop_duplicates()
    grid = pairs.merge(totals, on="segment_type")
    grid = grid.merge(themed, on=["segment_type", "segment_value", "theme_id"], how="left")
    grid["n"] = grid["n"].fillna(0).astype(np.int64)
    grid["total"] = grid["total"].astype(np.int64)
    grid["n"] = np.minimum(grid["n"], grid["total"])
    type_total = grid.groupby(["segment_type", "theme_id"])["total"].transform("sum")
    theme_total = grid.groupby(["segment_type", "theme_id"])["n"].transform("sum")
    grid["count_elsewhere"] = (theme_total - grid["n"]).astype(np.int64)
    grid["total_elsewhere"] = (type_total - grid["total"]).astype(np.int64)
    eligible = (
        (grid["total"] >= cfg["min_segment_comments"])
        & (grid["total_elsewhere"] >= cfg["min_segment_comments"])
        & (theme_total >= cfg["min_theme_total"])
    )
    return grid[eligible].reset_index(drop=True)
