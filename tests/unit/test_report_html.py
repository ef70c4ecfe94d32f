import base64
import csv
import hashlib
import json
import re
from datetime import datetime
from html import unescape

import openpyxl
import pandas as pd
import pytest

from pipelines.report import charts, exports, html


def test_json_for_script_cannot_close_its_script_block():
    payload = {"text": "</script><script>alert(1)</script><!-- \u2028 & done"}
    out = str(html.json_for_script(payload))
    assert "</" not in out and "<" not in out and ">" not in out and "&" not in out
    assert "\u2028" not in out
    assert json.loads(out) == payload


def test_json_for_script_handles_dates_numpy_and_refuses_nan():
    import numpy as np

    out = json.loads(str(html.json_for_script({"d": pd.Timestamp("2026-10-01").date(), "n": np.int64(3)})))
    assert out == {"d": "2026-10-01", "n": 3}
    with pytest.raises(ValueError):
        html.json_for_script({"x": float("nan")})


def test_csp_allows_only_the_hashed_scripts_and_no_network():
    script = "console.log(1)"
    expected = "'sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() + "'"
    assert html.csp_hash(script) == expected
    policy = html.content_security_policy([script])
    assert "default-src 'none'" in policy
    assert f"script-src {expected};" in policy
    assert "unsafe-inline" not in policy.split("script-src")[1].split(";")[0]
    assert "http" not in policy and "unsafe-eval" not in policy


def test_rendered_page_escapes_text_and_hashes_its_scripts():
    page = html.render_page(
        "index.html.j2",
        uses_plotly=False,
        title="<b>Reports</b>",
        audience="<img src=x onerror=alert(1)>",
        generated="now",
        run_id=None,
        k=5,
        version="test",
        period_label="October 2026",
        exports=[],
        charts_json=html.json_for_script([]),
        theme_report="a.html",
        trend_pack="b.html",
        run_status="c.html",
        this_report="index",
        available=[],
        min_responses=30,
    )
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "<b>Reports</b>" not in page
    head = page.split("</head>")[0]
    assert head.index('http-equiv="Content-Security-Policy"') < head.index("<style>")
    csp = unescape(re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', page).group(1))
    scripts = re.findall(r"<script>(.*?)</script>", page, flags=re.S)
    assert scripts, "the page should carry its own script"
    for body in scripts:
        assert html.csp_hash(body) in csp
    assert not re.search(r"""(src|href)=["']?https?:""", page)


def test_formatting():
    assert html.fmt_kpi(61.538, "%") == "61.5%"
    assert html.fmt_kpi(12.4, "NPS") == "+12"
    assert html.fmt_kpi(1234, "count") == "1,234"
    assert html.fmt_kpi(None, "%") == "\u2014"
    assert html.fmt_signed(-2.25, "%") == "-2.2 pts"
    assert html.fmt_signed(3, "count") == "+3"
    assert html.fmt_p(0.0004) == "p < 0.001"
    assert html.fmt_p(0.0312) == "p = 0.031"
    assert html.fmt_ratio(0.314, 0) == "31%"
    assert html.fmt_day(pd.Timestamp("2026-10-03 14:00")) == "2026-10-03"
    assert html.clean(pd.NA) is None and html.clean(float("nan")) is None


def test_sparkline_escapes_its_label_and_breaks_at_gaps():
    svg = str(charts.sparkline_svg([1.0, 2.0, None, 3.0, 4.0], 'Parking <script>"x"</script>'))
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert svg.count("<polyline") == 2
    assert 'role="img"' in svg
    empty = str(charts.sparkline_svg([None, 1.0], "label"))
    assert "<polyline" not in empty


def test_sentiment_bar_has_a_text_equivalent():
    svg = str(charts.sentiment_bar_svg(50.0, 20.0, 30.0))
    assert "50.0% positive, 20.0% neutral, 30.0% negative" in svg
    assert svg.count("<rect") == 3


def test_control_chart_marks_special_causes_and_describes_itself():
    series = pd.DataFrame(
        {
            "month": pd.to_datetime(["2026-07-01", "2026-08-01", "2026-09-01", "2026-10-01"]),
            "value": [50.0, 52.0, 49.0, 75.0],
            "centre": [55.0] * 4,
            "upper_limit": [65.0] * 4,
            "lower_limit": [45.0] * 4,
            "special_cause": [False, False, False, True],
        }
    )
    chart = charts.control_chart("c1", "FFT % positive", series, "%")
    names = [t["name"] for t in chart.figure["data"]]
    assert "outside control limits" in names and "centre line" in names
    assert "2026-10" in chart.aria_label and "75.0%" in chart.aria_label
    assert chart.table_rows[-1][-1] == "yes"
    assert chart.figure["layout"]["colorway"][0] == "#0072B2"


@pytest.mark.parametrize(
    ("value", "csv_value", "xlsx_value"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1", "'+1", "'+1"),
        ("-cmd", "'-cmd", "'-cmd"),
        ("@SUM(A1)", "'@SUM(A1)", "'@SUM(A1)"),
        ("fine", "fine", "fine"),
        ("a\x01b", "a\x01b", "ab"),  # XLSX (XML 1.0) cannot hold control characters; CSV can
    ],
)
def test_exports_keep_each_cell_inert(tmp_path, value, csv_value, xlsx_value):
    exports.write_exports({"t": pd.DataFrame({"text": [value]})}, tmp_path, "book")
    with (tmp_path / "t.csv").open(encoding="utf-8-sig", newline="") as f:
        assert list(csv.reader(f)) == [["text"], [csv_value]]
    cell = openpyxl.load_workbook(tmp_path / "book.xlsx")["t"]["A2"]
    assert cell.value == xlsx_value and cell.data_type == "s"


def test_exports_never_write_formulas(tmp_path):
    frame = pd.DataFrame(
        {
            "text": ["=1+1", "normal", None],
            "themes": [["T1", "T2"], [], None],
            "at": pd.to_datetime(["2026-10-01", "2026-10-02", None]).tz_localize("UTC"),
            "n": [1, -2, 3],
        }
    )
    written = exports.write_exports({"comments": frame, "second": frame.head(1)}, tmp_path, "book")
    assert [p.name for p in written] == ["comments.csv", "second.csv", "book.xlsx"]
    with (tmp_path / "comments.csv").open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    assert rows == [
        ["text", "themes", "at", "n"],
        ["'=1+1", "T1; T2", "2026-10-01", "1"],
        ["normal", "", "2026-10-02", "-2"],
        ["", "", "", "3"],
    ]
    book = openpyxl.load_workbook(tmp_path / "book.xlsx")
    assert book.sheetnames == ["comments", "second"]
    sheet = book["comments"]
    assert sheet["A2"].data_type == "s" and sheet["A2"].value == "'=1+1"
    assert sheet["B2"].value == "T1; T2"
    assert sheet["C2"].value == datetime(2026, 10, 1)  # the zone is dropped: Excel cannot store one
    assert sheet["D3"].value == -2


def test_the_plotly_bundle_is_the_vendored_partial_one_of_the_python_packages_version():
    bundle = html.STATIC / html.PLOTLY_BUNDLE
    assert hashlib.sha256(bundle.read_bytes()).hexdigest() == html.PLOTLY_BUNDLE_SHA256
    readme = (html.STATIC / "README.md").read_text(encoding="utf-8")
    assert html.PLOTLY_BUNDLE_SHA256 in readme and (html.STATIC / "plotly-basic.LICENSE").is_file()
    from plotly.offline import get_plotlyjs

    full_version = re.search(r"plotly\.js v(\d+\.\d+\.\d+)", get_plotlyjs()[:300]).group(1)
    head = html.plotly_js()[:300]
    assert f"plotly.js (basic - minified) v{full_version}" in head
    assert len(html.plotly_js().encode()) < 1_300_000  # the full bundle is 4.8 MB
    assert "</script" not in html.plotly_js().lower()  # safe to inline


def test_figures_are_refused_when_their_trace_type_is_not_in_the_bundle():
    import plotly.graph_objects as go

    assert {"scatter"} == charts.TRACE_TYPES
    with pytest.raises(ValueError, match="not in the page's plotly.js bundle"):
        charts._figure_json(go.Figure(go.Heatmap(z=[[1, 2]])))


def test_plotly_payload_carries_the_template_once():
    series = pd.DataFrame(
        {
            "month": pd.to_datetime(["2026-08-01", "2026-09-01", "2026-10-01"]),
            "value": [50.0, 52.0, 49.0],
            "centre": [50.0] * 3,
            "upper_limit": [60.0] * 3,
            "lower_limit": [40.0] * 3,
            "special_cause": [False] * 3,
        }
    )
    made = [charts.control_chart(f"c{i}", "FFT", series, "%") for i in range(3)]
    svg_only = charts.stage_rows_bars("s", "rows", pd.DataFrame({"stage": ["ingest"], "rows_in": [3], "rows_out": [2]}))
    payload = charts.plotly_payload([*made, svg_only])
    assert [c["id"] for c in payload["charts"]] == ["c0", "c1", "c2"]
    assert payload["template"] == made[0].figure["layout"]["template"]
    assert all("template" not in c["figure"]["layout"] for c in payload["charts"])
    assert charts.plotly_payload([svg_only]) is None


def test_svg_line_chart_escapes_names_breaks_at_gaps_and_titles_every_point():
    monthly = pd.DataFrame(
        {
            "month": pd.to_datetime(["2026-07-01", "2026-08-01", "2026-09-01", "2026-10-01"] * 2),
            "theme_label": ["<b>Parking</b>"] * 4 + ["Food"] * 4,
            "share_pct": [10.0, None, 12.0, 14.0, 5.0, 6.0, 7.0, 8.0],
        }
    )
    chart = charts.theme_lines("t", "Share", monthly, ["<b>Parking</b>", "Food"], ("2026-09", "2026-10"))
    svg = str(chart.svg)
    assert "<b>" not in svg and "&lt;b&gt;Parking&lt;/b&gt;" in svg
    assert chart.figure is None and 'role="img"' in svg
    assert svg.count("<polyline") == 2  # Food is one line; Parking has a single point, then a gap, then two
    assert svg.count("<title>") == 1 + 7  # the chart, and every shown point
    assert "&lt;b&gt;Parking&lt;/b&gt;, 2026-10: 14.0%" in svg
    assert 'fill="#f0f0f0"' in svg  # the report period is shaded
    assert ["Food", "2026-07", "5.0%"] in chart.table_rows


def test_svg_stacked_and_grouped_bars_say_their_values():
    ranking = pd.DataFrame(
        {
            "theme_label": ["Parking", "Food"],
            "positive_pct": [20.0, 60.0],
            "neutral_pct": [10.0, 10.0],
            "negative_pct": [70.0, 30.0],
        }
    )
    bars = charts.aspect_sentiment_bars("a", "Aspect", ranking)
    assert "Most negative: Parking (70.0% negative)" in bars.aria_label
    assert "<title>Parking: 70.0% negative</title>" in str(bars.svg)
    rows = charts.stage_rows_bars(
        "r", "Rows", pd.DataFrame({"stage": ["ingest", "enrich"], "rows_in": [620, 520], "rows_out": [600, None]})
    )
    assert "<title>ingest, rows out: 600</title>" in str(rows.svg) and "ingest: 620 in, 600 out" in rows.aria_label


def test_stage_messages_become_short_lines():
    from pipelines.report.run_status import describe_message, fold

    lines, full = describe_message(
        '{"rows_in": 1200, "share": 0.5, "ok": true, "files": ["a", "b"], "insights": {"alerts": 3}}'
    )
    assert lines == ["rows in: 1,200", "share: 0.50", "ok: yes", "files: 2", "insights alerts: 3"] and full is None
    many = describe_message(json.dumps({f"k{i}": i for i in range(9)}))
    assert many[0][-1] == "and 3 more" and '"k8": 8' in many[1].full
    error = "ValueError: bad thing happened.\nTraceback (most recent call last): ..."
    lines, full = describe_message(error)
    assert lines == ["ValueError: bad thing happened."] and full.full == error
    assert describe_message("{}") == ([], None) and describe_message(None) == ([], None)
    assert fold("short").is_folded is False
    long = fold("x" * 100)
    assert long.is_folded and len(long.short) == 40 and long.full == "x" * 100


def test_key_driver_chart_describes_its_top_theme_in_words_the_final_scan_passes():
    """The trend pack's scan read "Top driver: Quiet waiting room" as a transport driver's name."""
    from pipelines.privacy.scan import TextScanner

    drivers = pd.DataFrame(
        {
            "theme_label": ["Quiet waiting room", "Pain relief was given quickly"],
            "importance": [0.12, 0.03],
            "performance": [0.4, 0.8],
            "prevalence": [0.2, 0.1],
        }
    )
    chart = charts.key_driver_scatter("kd", "What drives poor ratings", drivers)
    assert "Quiet waiting room" in chart.aria_label
    assert dict(TextScanner().kinds(chart.aria_label)) == {}


def test_theme_trend_chart_label_reads_no_name_into_two_theme_labels():
    # Joined by commas, "... for my grandad" and "Cleaners were in constantly" read as a relative
    # and a name ("my grandad, Cleaners"): the final scan held back a demo theme report for it.
    from pipelines.privacy.scan import TextScanner

    labels = ["Which was hard for my grandad", "Cleaners were in constantly", "Quiet waiting room"]
    monthly = pd.DataFrame({"theme_label": labels, "month": ["2026-09-01"] * 3, "share_pct": [4.0, 3.0, 2.0]})
    chart = charts.theme_lines("t", "Share", monthly, labels, ("2026-09", "2026-09"))
    scanner = TextScanner()
    assert scanner.kinds(", ".join(labels))["PERSON"] == 1  # the old label's list
    assert not scanner.kinds(chart.aria_label)
    assert all(label in chart.aria_label for label in labels)
