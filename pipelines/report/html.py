"""Self-contained, safe HTML pages: Jinja2 with autoescape, inline assets, a strict CSP.

Safety model (issue 4, "Report safety"):

* every value is HTML-escaped by Jinja2 autoescape; nothing from the warehouse is marked safe;
* data for client-side filtering travels as JSON in ``<script type="application/json">``
  blocks, with ``<``, ``>``, ``&`` and U+2028/2029 escaped so no text can close the block;
* the page's JavaScript (the partial plotly.js bundle on the trend pack, and ``static/report.js``)
  is inline and allowed by its
  SHA-256 hash in a Content-Security-Policy meta tag: any other script - an injected
  ``<script>``, an ``onerror=`` handler, a ``javascript:`` URL - is refused by the browser,
  and the policy forbids loading anything from outside the file (no CDN, no fonts, no beacons);
* client-side code writes patient text with ``textContent`` only.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

_HERE = Path(__file__).resolve().parent
STATIC = _HERE / "static"
TEMPLATES = _HERE / "templates"

# Okabe & Ito (2008) colour-blind-safe palette; sentiment uses blue / grey / vermillion so it
# reads without red-green discrimination, and charts add shapes or labels where colour matters.
OKABE_ITO = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
SENTIMENT_COLOURS = {"positive": "#0072B2", "neutral": "#999999", "negative": "#D55E00"}


def json_for_script(value: Any) -> Markup:
    """JSON safe to place inside ``<script type="application/json">``.

    ``json.dumps`` alone is not enough: a string containing ``</script>`` would end the block.
    """
    text = json.dumps(value, default=_json_default, ensure_ascii=False, allow_nan=False)
    for char, escaped in (
        ("<", "\\u003c"),
        (">", "\\u003e"),
        ("&", "\\u0026"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
    ):
        text = text.replace(char, escaped)
    return Markup(text)  # escaped above for the script-data context


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return str(value)


def clean(value: Any) -> Any:
    """Replace NaN/NaT/pd.NA with None (JSON and templates understand None)."""
    if value is None:
        return None
    try:
        import pandas as pd

        if value is pd.NA or value is pd.NaT:
            return None
    except ImportError:  # pragma: no cover
        pass
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "item") and not isinstance(value, str | bytes):
        try:
            return clean(value.item())
        except (ValueError, AttributeError):
            return value
    return value


def csp_hash(script: str) -> str:
    """The CSP source expression allowing exactly this inline script."""
    digest = hashlib.sha256(script.encode("utf-8")).digest()
    return "'sha256-" + base64.b64encode(digest).decode("ascii") + "'"


PLOTLY_BUNDLE = "plotly-basic.min.js"  # vendored partial bundle: see static/README.md
PLOTLY_BUNDLE_SHA256 = "99784e3abfb07b142a15e521a439e6d9addceadb3f79553fd24c72774f0649ba"
PAGE_BYTES_MAX = 1_500_000  # every page must stay small enough for e-mail and file shares


@cache
def plotly_js() -> str:
    """The vendored partial plotly.js bundle (scatter, bar, pie), inlined: pages open offline."""
    return static_text(PLOTLY_BUNDLE)


@cache
def static_text(name: str) -> str:
    """A file of ``pipelines/report/static``."""
    return (STATIC / name).read_text(encoding="utf-8")


def content_security_policy(scripts: list[str]) -> str:
    """A policy that runs only the given inline scripts and loads nothing from outside.

    ``style-src 'unsafe-inline'`` is needed because Plotly sets inline styles; styles cannot
    execute code. ``img-src data:`` lets Plotly export a PNG of a chart.
    """
    hashes = " ".join(csp_hash(s) for s in scripts)
    return (
        "default-src 'none'; "
        f"script-src {hashes}; "
        "style-src 'unsafe-inline'; "
        "img-src data:; font-src data:; connect-src 'none'; "
        "base-uri 'none'; form-action 'none'; object-src 'none'"
    )


@cache
def environment() -> jinja2.Environment:
    """Jinja2 environment with autoescape on for every template."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["num"] = fmt_number
    env.filters["kpi"] = fmt_kpi
    env.filters["signed"] = fmt_signed
    env.filters["pval"] = fmt_p
    env.filters["pct"] = fmt_pct
    env.filters["ratio"] = fmt_ratio
    env.filters["day"] = fmt_day
    env.filters["tojson_script"] = json_for_script
    return env


def render_page(template: str, *, uses_plotly: bool, **context: Any) -> str:
    """Render a page template with its inline scripts and their CSP hashes."""
    scripts = [static_text("report.js")]
    if uses_plotly:
        scripts.insert(0, plotly_js())
    page = (
        environment()
        .get_template(template)
        .render(
            csp=content_security_policy(scripts),
            css=Markup(static_text("report.css")),  # our own file
            scripts=[Markup(s) for s in scripts],  # our own files, allowed by hash
            **context,
        )
    )
    return page


# --------------------------------------------------------------------------- formatting


def fmt_number(value: Any, digits: int = 0) -> str:
    """1234.5 -> '1,235'; None -> an em dash."""
    value = clean(value)
    if value is None:
        return "\u2014"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return f"{float(value):,.{digits}f}"


def fmt_pct(value: Any, digits: int = 1) -> str:
    """A percentage already on the 0-100 scale."""
    value = clean(value)
    return "\u2014" if value is None else f"{float(value):.{digits}f}%"


def fmt_day(value: Any) -> str:
    """A date or timestamp as YYYY-MM-DD."""
    value = clean(value)
    return "" if value is None else str(value)[:10]


def fmt_ratio(value: Any, digits: int = 1) -> str:
    """A proportion on the 0-1 scale as a percentage."""
    value = clean(value)
    return "\u2014" if value is None else f"{100 * float(value):.{digits}f}%"


def fmt_kpi(value: Any, unit: str) -> str:
    """A KPI value in its unit."""
    value = clean(value)
    if value is None:
        return "\u2014"
    if unit == "%":
        return f"{value:.1f}%"
    if unit == "count":
        return f"{int(round(value)):,}"
    if unit == "NPS":
        return f"{value:+.0f}"
    if unit in {"per 1,000", "score", "minutes", "working days"}:
        return f"{value:,.1f}"
    return f"{value:,.2f}"


def fmt_signed(value: Any, unit: str = "") -> str:
    """A change with its sign: +2.3 pts, -4."""
    value = clean(value)
    if value is None:
        return "\u2014"
    suffix = " pts" if unit in {"%", "NPS"} else ""
    digits = 0 if unit == "count" else 1
    return f"{value:+,.{digits}f}{suffix}"


def fmt_p(value: Any) -> str:
    """p-value for people: 'p < 0.001', 'p = 0.03'."""
    value = clean(value)
    if value is None:
        return "\u2014"
    if value < 0.001:
        return "p < 0.001"
    return f"p = {value:.3f}" if value < 0.1 else f"p = {value:.2f}"
