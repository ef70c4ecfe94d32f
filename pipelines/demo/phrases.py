"""The demo generator's phrase banks: YAML files in ``pipelines/demo/data/``, read once per process.

The files hold words only (phrases, vocabularies, topic weights); what the generator does with
them is code. Lists come back as tuples so a cached bank cannot be changed by a caller.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

import yaml

BANKS: tuple[str, ...] = (
    "topics",
    "topic_weights",
    "comments",
    "complaints",
    "slots",
    "identifiers",
    "sample_clauses",
)


def _frozen(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_frozen(v) for v in value)
    if isinstance(value, dict):
        return {k: _frozen(v) for k, v in value.items()}
    return value


@cache
def load(name: str) -> dict[str, Any]:
    """The parsed ``data/<name>.yaml`` bank (cached: each file is read once per process).

    Args:
        name: One of ``BANKS``.

    Returns:
        The file's top-level mapping, with every list turned into a tuple; mapping order is the
        file's order (it decides the order of weighted draws, so it is part of the output).

    Raises:
        KeyError: if ``name`` is not a known bank.
    """
    if name not in BANKS:
        raise KeyError(f"unknown phrase bank {name!r}; expected one of {', '.join(BANKS)}")
    text = resources.files(__package__).joinpath("data", f"{name}.yaml").read_text(encoding="utf-8")
    return _frozen(yaml.safe_load(text))
