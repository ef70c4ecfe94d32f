"""Parameters of the insights stage: defaults, ``models/themes/insights.yaml``, validation."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pipelines.config import Settings
from pipelines.provenance import deep_merge, sha256_json

__all__ = ["DEFAULT_CONFIG", "OUTCOMES", "InsightsError", "config_path", "load_config", "params_hash"]

# Defaults for every key of models/themes/insights.yaml; the YAML overrides them.
DEFAULT_CONFIG: dict[str, Any] = {
    "version": 1,
    "emerging": {
        "segments": ["all", "site", "service", "channel"],
        "baseline_months": 6,
        "min_baseline_months": 3,
        "min_baseline_comments": 60,
        "min_segment_comments": 30,
        "min_theme_total": 5,
        "min_theme_comments": 8,
        "min_lift": 1.5,
        "min_increase": 0.02,
        "alpha": 0.05,
        "fdr_family": "run",
        "overdispersion": True,
        "max_dispersion": 10.0,
        "quotes": 3,
        "quote_max_chars": 280,
    },
    "drivers": {
        "outcomes": ["fft_poor", "nps_detractor"],
        "scopes": ["all", "service"],
        "mention": "negative",
        "min_scope_responses": 100,
        "min_events": 20,
        "min_mentions": 10,
        "prior_sd": 2.5,
        "control_prior_sd": 5.0,
        "bootstrap_reps": 200,
        "ci_level": 0.95,
        "alpha": 0.05,
        "threads": 0,
    },
    "lift": {
        "segments": ["site", "service", "channel", "weekday", "hour_band", "month"],
        "mention": "negative",
        "min_segment_comments": 30,
        "min_theme_total": 10,
        "min_theme_comments": 5,
        "min_lift": 1.2,
        "alpha": 0.05,
    },
}

# Which responses each outcome is defined on, and what counts as the poor outcome.
OUTCOMES: dict[str, tuple[str, tuple[str, ...], str]] = {
    "fft_poor": ("fft_category", ("positive", "neutral", "negative"), "negative"),
    "nps_detractor": ("nps_class", ("promoter", "passive", "detractor"), "detractor"),
}


class InsightsError(RuntimeError):
    """The insights configuration or input is unusable."""


def config_path(settings: Settings) -> Path:
    """Where the insights parameters live (``models/themes/insights.yaml``)."""
    return settings.models_dir / "themes" / "insights.yaml"


def load_config(path: Path | None = None, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Insights parameters: defaults, overridden by the YAML at ``path`` (if any), then ``overrides``.

    Raises:
        InsightsError: for an unknown outcome, segment type, FDR family or mention kind.
    """
    import yaml

    cfg = copy.deepcopy(DEFAULT_CONFIG)
    if path is not None and Path(path).is_file():
        cfg = deep_merge(cfg, yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {})
    cfg = deep_merge(cfg, overrides)
    _validate(cfg)
    return cfg


def _validate(cfg: Mapping[str, Any]) -> None:
    unknown = set(cfg["drivers"]["outcomes"]) - set(OUTCOMES)
    if unknown:
        raise InsightsError(f"unknown driver outcome(s) {sorted(unknown)}: use {sorted(OUTCOMES)}")
    if set(cfg["emerging"]["segments"]) - {"all", "site", "service", "channel"}:
        raise InsightsError("emerging.segments may hold only all, site, service, channel")
    if set(cfg["lift"]["segments"]) - {"site", "service", "channel", "weekday", "hour_band", "month"}:
        raise InsightsError("lift.segments may hold only site, service, channel, weekday, hour_band, month")
    if cfg["emerging"]["fdr_family"] not in {"run", "period"}:
        raise InsightsError("emerging.fdr_family must be 'run' or 'period'")
    for part in ("drivers", "lift"):
        if cfg[part]["mention"] not in {"negative", "any"}:
            raise InsightsError(f"{part}.mention must be 'negative' or 'any'")


def params_hash(cfg: Mapping[str, Any]) -> str:
    """Short stable hash of the parameters a run used."""
    return sha256_json(cfg)[:10]
