"""Small charts drawn on the server as inline SVG: no chart library on the page that shows them.

The theme report and the run-status page draw only a few simple charts (stacked bars, lines,
grouped bars), so they carry SVG instead of plotly.js and keep their weight for data. Every
chart scales with the page (``viewBox``), has a ``<title>`` and an ``aria-label`` (the page adds
a caption and a data table), and every point or bar has its own ``<title>``: hovering shows its
value with no script. Text is escaped with markupsafe; colours and shapes are ours.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

FONT = 'font-family="system-ui, -apple-system, Segoe UI, Roboto, sans-serif"'
GRID = "#e5e5e5"
AXIS = "#595959"
DASH_ARRAYS = {
    "solid": "",
    "dash": "8 4",
    "dot": "2 3",
    "dashdot": "8 3 2 3",
    "longdash": "14 4",
    "longdashdot": "14 4 2 4",
}


@dataclass(frozen=True)
class Series:
    """One line of a line chart: values aligned with the chart's x labels (None = a gap)."""

    name: str
    values: Sequence[float | None]
    colour: str
    dash: str = "solid"
    marker: str = "circle"


@dataclass(frozen=True)
class Part:
    """One colour of a stacked bar, or one series of grouped bars."""

    name: str
    colour: str
    values: Sequence[float | None]
    hatched: bool = False


def _text(x: float, y: float, text: str, *, anchor: str = "start", size: int = 12, fill: str = "#1b1b1b") -> str:
    return (
        f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" font-size="{size}" fill="{fill}" {FONT}>'
        f"{escape(text)}</text>"
    )


def _y_title(text: str, y: float) -> str:
    """The y-axis title, written upwards along the left edge."""
    return (
        f'<text transform="rotate(-90 14 {y:.1f})" x="14" y="{y:.1f}" text-anchor="middle" font-size="11" '
        f'fill="{AXIS}" {FONT}>{escape(text)}</text>'
    )


def _svg(chart_id: str, width: int, height: int, label: str, body: str) -> Markup:
    """The outer ``<svg>``: scales to its container, named for screen readers."""
    return Markup(
        f'<svg id="{escape(chart_id)}-svg" class="svgchart" role="img" aria-label="{escape(label)}" '
        f'viewBox="0 0 {width} {height}" width="100%" preserveAspectRatio="xMinYMin meet">'
        f"<title>{escape(label)}</title>{body}</svg>"
    )


def _legend(x: float, y: float, parts: Sequence[tuple[str, str, str]]) -> str:
    """A one-row legend of (name, colour, swatch markup) items; long rows wrap."""
    out, cx, cy = [], x, y
    for name, colour, swatch in parts:
        width = 26 + 7 * len(name)
        if cx + width > 880 and cx > x:
            cx, cy = x, cy + 18
        out.append(swatch.format(x=cx, y=cy, colour=colour))
        out.append(_text(cx + 22, cy + 4, name, size=12))
        cx += width + 14
    return "".join(out)


def nice_max(value: float) -> float:
    """A round axis maximum at or above ``value`` (1, 2, 2.5 or 5 times a power of ten)."""
    if value <= 0:
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    return next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= value)


def stacked_bars(
    chart_id: str, label: str, categories: Sequence[str], parts: Sequence[Part], fmt: Callable[[float], str]
) -> Markup:
    """Horizontal 100 % stacked bars, one per category, the share of each part written inside."""
    label_w = min(260, 12 + 7 * max((len(c) for c in categories), default=10))
    width, bar_h, gap, top = 900, 22, 10, 10
    plot_w = width - label_w - 20
    height = top + len(categories) * (bar_h + gap) + 64
    out = []
    for tick in range(0, 101, 25):
        x = label_w + plot_w * tick / 100
        bottom = top + len(categories) * (bar_h + gap)
        out.append(f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{bottom}" stroke="{GRID}"/>')
        out.append(_text(x, bottom + 14, f"{tick}%", anchor="middle", size=11, fill=AXIS))
    for i, category in enumerate(categories):
        y = top + i * (bar_h + gap)
        out.append(_text(label_w - 8, y + bar_h / 2 + 4, category, anchor="end"))
        values = [p.values[i] or 0.0 for p in parts]
        total, x = sum(values) or 1.0, float(label_w)
        for part, value in zip(parts, values, strict=True):
            w = plot_w * value / total
            tip = f"{category}: {fmt(value)} {part.name}"
            out.append(
                f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="{part.colour}">'
                f"<title>{escape(tip)}</title></rect>"
            )
            if w > 34:
                out.append(_text(x + w / 2, y + bar_h / 2 + 4, fmt(value), anchor="middle", size=11, fill="#ffffff"))
            x += w
    swatch = '<rect x="{x}" y="{y}" width="16" height="10" transform="translate(0,-5)" fill="{colour}"/>'
    legend_y = top + len(categories) * (bar_h + gap) + 40
    out.append(_legend(label_w, legend_y, [(p.name, p.colour, swatch) for p in parts]))
    return _svg(chart_id, width, height, label, "".join(out))


def _marker(shape: str, x: float, y: float, colour: str) -> str:
    if shape == "square":
        return f'<rect x="{x - 3.5:.1f}" y="{y - 3.5:.1f}" width="7" height="7" fill="{colour}"'
    if shape == "diamond":
        points = f"{x:.1f},{y - 5:.1f} {x + 5:.1f},{y:.1f} {x:.1f},{y + 5:.1f} {x - 5:.1f},{y:.1f}"
        return f'<polygon points="{points}" fill="{colour}"'
    if shape == "triangle-up":
        return f'<polygon points="{x:.1f},{y - 5:.1f} {x + 5:.1f},{y + 4:.1f} {x - 5:.1f},{y + 4:.1f}" fill="{colour}"'
    if shape == "x":
        return (
            f'<path d="M{x - 4:.1f},{y - 4:.1f}L{x + 4:.1f},{y + 4:.1f}'
            f'M{x - 4:.1f},{y + 4:.1f}L{x + 4:.1f},{y - 4:.1f}" stroke="{colour}" stroke-width="2.5"'
        )
    return f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{colour}"'


def lines(
    chart_id: str,
    label: str,
    x_labels: Sequence[str],
    series: Sequence[Series],
    y_title: str,
    fmt: Callable[[float], str],
    highlight: tuple[int, int] | None = None,
) -> Markup:
    """A line chart over ``x_labels`` (gaps break the line), markers and dashes telling lines apart.

    ``highlight`` shades the x positions from its first to its last index (the report period).
    """
    width, height, left, right, top, plot_h = 900, 336, 60, 20, 12, 250
    plot_w = width - left - right
    values = [v for s in series for v in s.values if v is not None]
    y_max = nice_max(max(values, default=1.0))
    step = plot_w / max(len(x_labels) - 1, 1)

    def xy(i: int, v: float) -> tuple[float, float]:
        return left + i * step, top + plot_h - plot_h * v / y_max

    out = [_y_title(y_title, top + plot_h / 2)]
    if highlight is not None:
        x0, x1 = left + (highlight[0] - 0.5) * step, left + (highlight[1] + 0.5) * step
        x0, x1 = max(x0, left), min(x1, width - right)
        out.append(f'<rect x="{x0:.1f}" y="{top}" width="{x1 - x0:.1f}" height="{plot_h}" fill="#f0f0f0"/>')
    for j in range(5):
        v = y_max * j / 4
        y = top + plot_h - plot_h * j / 4
        out.append(f'<line x1="{left}" x2="{width - right}" y1="{y:.1f}" y2="{y:.1f}" stroke="{GRID}"/>')
        out.append(_text(left - 6, y + 4, fmt(v), anchor="end", size=11, fill=AXIS))
    every = max(1, math.ceil(len(x_labels) / 12))
    last = len(x_labels) - 1
    for i, x_label in enumerate(x_labels):
        # every n-th label, and the last one unless it would run into the one before
        if i % every == 0 or (i == last and last % every >= every / 2):
            out.append(_text(left + i * step, top + plot_h + 16, x_label, anchor="middle", size=11, fill=AXIS))
    for s in series:
        out.append(_series(s, x_labels, xy, fmt))
    legend = [(s.name, s.colour, f'<g transform="translate({{x}},{{y}})">{_line_swatch(s)}</g>') for s in series]
    out.append(_legend(left, top + plot_h + 44, legend))
    return _svg(chart_id, width, height, label, "".join(out))


def _line_swatch(s: Series) -> str:
    dash = DASH_ARRAYS.get(s.dash, "")
    dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
    marker = _marker(s.marker, 9, 0, s.colour) + "/>"
    return f'<line x1="0" x2="18" y1="0" y2="0" stroke="{s.colour}" stroke-width="2"{dash_attr}/>' + marker


def _series(
    s: Series, x_labels: Sequence[str], xy: Callable[[int, float], tuple[float, float]], fmt: Callable[[float], str]
) -> str:
    """One line: polylines between gaps, and a marker with a hover title on every point."""
    dash = DASH_ARRAYS.get(s.dash, "")
    dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
    runs: list[list[str]] = [[]]
    marks = []
    for i, v in enumerate(s.values):
        if v is None:
            runs.append([])
            continue
        x, y = xy(i, v)
        runs[-1].append(f"{x:.1f},{y:.1f}")
        tip = escape(f"{s.name}, {x_labels[i]}: {fmt(v)}")
        marks.append(_marker(s.marker, x, y, s.colour) + f"><title>{tip}</title></{_tag(s.marker)}>")
    polylines = "".join(
        f'<polyline fill="none" stroke="{s.colour}" stroke-width="2"{dash_attr} points="{" ".join(r)}"/>'
        for r in runs
        if len(r) > 1
    )
    return f'<g class="series">{polylines}{"".join(marks)}</g>'


def _tag(shape: str) -> str:
    return {"square": "rect", "diamond": "polygon", "triangle-up": "polygon", "x": "path"}.get(shape, "circle")


def grouped_bars(chart_id: str, label: str, categories: Sequence[str], parts: Sequence[Part], y_title: str) -> Markup:
    """Vertical bars grouped by category, each labelled with its value; hatched parts for print."""
    width, height, left, top, plot_h = 900, 340, 70, 24, 220
    plot_w = width - left - 20
    y_max = nice_max(max((v or 0 for p in parts for v in p.values), default=1))
    group_w = plot_w / max(len(categories), 1)
    bar_w = min(60.0, group_w * 0.8 / max(len(parts), 1))
    pattern = f"{escape(chart_id)}-hatch"
    out = [
        f'<defs><pattern id="{pattern}" width="6" height="6" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)"><rect width="6" height="6" fill="#ffffff" fill-opacity="0.0"/>'
        '<line x1="0" y1="0" x2="0" y2="6" stroke="#ffffff" stroke-width="2"/></pattern></defs>',
        _y_title(y_title, top + plot_h / 2),
    ]
    for j in range(5):
        y = top + plot_h - plot_h * j / 4
        out.append(f'<line x1="{left}" x2="{width - 20}" y1="{y:.1f}" y2="{y:.1f}" stroke="{GRID}"/>')
        out.append(_text(left - 6, y + 4, f"{y_max * j / 4:,.0f}", anchor="end", size=11, fill=AXIS))
    for i, category in enumerate(categories):
        x0 = left + i * group_w + (group_w - bar_w * len(parts)) / 2
        out.append(_text(left + (i + 0.5) * group_w, top + plot_h + 16, category, anchor="middle", size=12))
        for j, part in enumerate(parts):
            value = part.values[i]
            h = plot_h * (value or 0) / y_max
            x, y = x0 + j * bar_w, top + plot_h - h
            tip = escape(f"{category}, {part.name}: {'' if value is None else f'{value:,.0f}'}")
            out.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w - 2:.1f}" height="{h:.1f}" fill="{part.colour}">'
                f"<title>{tip}</title></rect>"
            )
            if part.hatched:
                out.append(
                    f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w - 2:.1f}" height="{h:.1f}" fill="url(#{pattern})"/>'
                )
            if value is not None:
                out.append(_text(x + bar_w / 2 - 1, y - 4, f"{value:,.0f}", anchor="middle", size=11))
    swatch = '<rect x="{x}" y="{y}" width="16" height="10" transform="translate(0,-5)" fill="{colour}"/>'
    out.append(_legend(left, top + plot_h + 48, [(p.name, p.colour, swatch) for p in parts]))
    return _svg(chart_id, width, height, label, "".join(out))
