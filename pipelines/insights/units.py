"""The units the insights test: themes, and taxonomy categories rolled up from them."""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["unit_meta", "with_unit_columns"]


def with_unit_columns(counts: pd.DataFrame) -> pd.DataFrame:
    """A copy of a count frame with ``level`` and ``category_id`` (theme level when absent)."""
    frame = counts.copy()
    if "level" not in frame:
        frame["level"] = np.where(frame["theme_id"].isna(), None, "theme")
    if "category_id" not in frame:
        frame["category_id"] = None
    return frame


def unit_meta(themed: pd.DataFrame) -> pd.DataFrame:
    """Level and category_id of every theme / category unit."""
    return themed[["theme_id", "level", "category_id"]].drop_duplicates("theme_id")
