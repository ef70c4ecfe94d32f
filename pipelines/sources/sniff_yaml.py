"""Write a sniffed source as YAML with the reason for every guess beside it.

ruamel (which keeps comments) is not a dependency: each line is written here, its key and value
quoted by ``yaml.safe_dump``, and the text is parsed back and compared with :func:`config_dict`
before it is returned, so a comment can never change what the loader reads.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import yaml

from pipelines.sources.sniff import Sniffed, prepare_rows_wired
from pipelines.sources.sniff_columns import Guess

_COMMENT_COLUMN = 44
_FIELD_ORDER = ("response_id", "received_at", "site", "service", "age_band", "rating")


def config_dict(sniffed: Sniffed) -> dict[str, Any]:
    """The source config the YAML holds (what ``yaml.safe_load`` of :func:`render` gives)."""
    shape, roles = sniffed.shape, sniffed.roles
    out: dict[str, Any] = {"stream": sniffed.stream, "preset": roles.preset.value, "format": shape.format}
    out["path"] = sniffed.path.value
    for key in ("encoding", "delimiter", "header_row", "sheet"):
        guess = getattr(shape, key)
        if guess is not None:
            out[key] = guess.value
    out |= {"timezone": "Europe/London", "country": "GB"}
    if roles.dayfirst is not None:
        out["dayfirst"] = roles.dayfirst.value
    out["mapping"] = _mapping(sniffed)
    if roles.defaults:
        out["defaults"] = {k: g.value for k, g in roles.defaults.items()}
    options = _options(sniffed)
    if options:
        out["options"] = options
    return out


def _mapping(sniffed: Sniffed) -> dict[str, Any]:
    roles = sniffed.roles
    mapping: dict[str, Any] = {k: roles.fields[k].value for k in _FIELD_ORDER if k in roles.fields}
    if roles.rating_scale is not None:
        mapping["rating_scale"] = roles.rating_scale.value
    mapping["questions"] = {k: g.value for k, g in roles.questions.items()}
    if roles.items or roles.preset.value == "hcahps":
        mapping["items"] = {k: g.value for k, g in roles.items.items()}
    return mapping


def _options(sniffed: Sniffed) -> dict[str, Any]:
    options: dict[str, Any] = {}
    if sniffed.roles.placeholders:
        options["placeholders"] = sniffed.roles.placeholders
    if sniffed.long is not None:
        options["long"] = sniffed.long.as_options()
    if sniffed.shape.fhir_layout:
        options["fhir_layout"] = sniffed.shape.fhir_layout
    return options


def _scalar(value: Any) -> str:
    text = yaml.safe_dump(value, default_flow_style=True, allow_unicode=True, width=1 << 30, sort_keys=False)
    return text.removesuffix("\n").removesuffix("\n...").strip()


def _line(indent: int, key: Any, value: Any = None, why: str = "", nested: bool = False) -> str:
    text = " " * indent + _scalar(key) + ":" + ("" if nested else " " + _scalar(value))
    if why:
        text = text.ljust(_COMMENT_COLUMN - 1) + " # " + " ".join(why.split())
    return text


def render(sniffed: Sniffed, name: str, command: str) -> str:
    """The commented YAML of ``sniffed`` as source ``name``.

    Raises:
        ValueError: if the text would not load back as :func:`config_dict` (a bug, never written).
    """
    config = config_dict(sniffed)
    lines = _head(sniffed, name, command)
    lines += _top(sniffed, config)
    lines += _mapping_lines(sniffed, config["mapping"])
    if sniffed.roles.defaults:
        lines.append(_line(0, "defaults", nested=True, why="values for what the export lacks"))
        lines += [_line(2, key, guess.value, guess.why) for key, guess in sniffed.roles.defaults.items()]
    if "options" in config:
        lines.append(_line(0, "options", nested=True, why="how to read the export"))
        why = {
            "long": sniffed.layout.why,
            "fhir_layout": "by the file suffix",
            "placeholders": "what the platform writes for a skipped question: read as a blank answer",
        }
        if not prepare_rows_wired():
            why["placeholders"] += " (once the readers apply it; this version loads them as comments)"
            why["long"] += " (once the readers apply it; this version cannot load it)"
        lines += [_line(2, k, v, why.get(k, "")) for k, v in config["options"].items()]
    if sniffed.roles.ignored:
        lines.append("# Not loaded (no role found; map them under `mapping:` if you need them): ")
        lines.append("#   " + ", ".join(sniffed.roles.ignored))
    text = "\n".join(lines) + "\n"
    if yaml.safe_load(text) != config:
        raise ValueError(f"the YAML written for source {name} does not read back as its config")
    return text


def _head(sniffed: Sniffed, name: str, command: str) -> list[str]:
    files = sniffed.files
    shown = files[0].name if len(files) == 1 else f"{files[0].name} .. {files[-1].name}"
    lines = [
        f"# Source {name!r}, written by `{command}` on {date.today():%Y-%m-%d}",
        f"# from {len(files)} file(s) ({shown}), {sniffed.rows:,} rows. Every value below is a guess from the",
        "# files, with its reason beside it: check them, then repeat the dry run with",
        f"#   feedback source check {name}",
    ]
    if sniffed.warnings:
        lines.append("# To check:")
        lines += [f"#  - {' '.join(w.split())}" for w in sniffed.warnings]
    return lines


def _top(sniffed: Sniffed, config: dict[str, Any]) -> list[str]:
    shape, roles = sniffed.shape, sniffed.roles
    why: dict[str, str] = {
        "stream": "answers of respondents to survey questions",
        "preset": roles.preset.why,
        "format": f"{sniffed.layout.value} {shape.format} export" + (f": {sniffed.layout.why}" if sniffed.long else ""),
        "path": sniffed.path.why,
        "timezone": "not in the export: the default zone of local times (set yours)",
        "country": "the holiday calendar for working-day KPIs (GB = England)",
    }
    for key in ("encoding", "delimiter", "header_row", "sheet"):
        guess: Guess | None = getattr(shape, key)
        if guess is not None:
            why[key] = guess.why
    if roles.dayfirst is not None:
        why["dayfirst"] = roles.dayfirst.why
        if roles.dayfirst.value is False:
            why["timezone"] = "not in the export; mm/dd dates suggest a US export: set its zone (America/Chicago ...)"
            why["country"] = "the holiday calendar for working-day KPIs: set it too (US, US-IL ...)"
    return [_line(0, k, config[k], why.get(k, "")) for k in config if k not in ("mapping", "defaults", "options")]


def _mapping_lines(sniffed: Sniffed, mapping: dict[str, Any]) -> list[str]:
    roles = sniffed.roles
    lines = [_line(0, "mapping", nested=True, why="canonical field: the export's column")]
    for key in _FIELD_ORDER:
        if key in roles.fields:
            lines.append(_line(2, key, roles.fields[key].value, roles.fields[key].why))
    if roles.rating_scale is not None:
        lines.append(_line(2, "rating_scale", roles.rating_scale.value, roles.rating_scale.why))
    if roles.questions:
        lines.append(_line(2, "questions", nested=True, why="free-text column: the question asked (null: the header)"))
        lines += [_line(4, k, g.value, g.why) for k, g in roles.questions.items()]
    else:
        lines.append(_line(2, "questions", {}, "no free-text column found"))
    if "items" in mapping:
        if roles.items:
            lines.append(_line(2, "items", nested=True, why="further rated questions, stored per item"))
            lines += [_line(4, k, g.value, g.why) for k, g in roles.items.items()]
        else:
            lines.append(_line(2, "items", {}, "no Never..Always item found"))
    return lines
