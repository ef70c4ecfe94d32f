"""Report periods: parsing, the default choice, the windowed views, and the pages they give.

The windowed reporting views (quarters, rolling windows) are checked two ways: their one-month
windows equal the monthly views row for row, and a quarter's KPIs and theme volumes equal the
same numbers computed here straight from the marts. A sample whose last complete month is thin
(two responses) and whose data ends seven days into the next month checks the default choice,
the warning and its link, trends drawn, the index, and page weight.
"""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipelines import warehouse
from pipelines.config import Settings
from pipelines.demo import report_sample as sample
from pipelines.insights.kpis import prepare_reporting
from pipelines.periods import MIN_RESPONSES, Period, Rolling, add_months, parse_period
from pipelines.report import choice, html, theme_report, write_reports
from pipelines.report.choice import MonthVolume, Volumes

ROOT = Path(__file__).resolve().parents[2]
MB = 1_000_000


def _settings(base: Path) -> Settings:
    return Settings.from_env(
        {"FEEDBACK_HOME": str(ROOT), "FEEDBACK_WAREHOUSE": str(base / "wh.duckdb"), "FEEDBACK_REPORTS_DIR": str(base)}
    )


# --------------------------------------------------------------------------- parsing


def test_parse_months_quarters_and_rolling_windows():
    q3 = parse_period("2026-Q3")
    assert (q3.start, q3.end, q3.kind, q3.months, q3.key) == (
        date(2026, 7, 1),
        date(2026, 9, 30),
        "quarter",
        3,
        "2026-Q3",
    )
    assert q3.label == "2026 Q3 (July to September)"
    assert parse_period("2026q1") == Period.quarter(2026, 1)
    assert parse_period(" 2026-2 ") == Period.month(date(2026, 2, 1))
    assert parse_period("last-3-months") == Rolling(3)
    assert parse_period("LAST-1-MONTH") == Rolling(1)
    window = Rolling(3).ending(date(2026, 10, 1))
    assert (window.start, window.end, window.kind, window.key) == (
        date(2026, 8, 1),
        date(2026, 10, 31),
        "rolling",
        "2026-08-to-2026-10",
    )
    assert window.label == "last 3 months (August 2026 to October 2026)"
    assert Rolling(1).ending(date(2026, 10, 1)) == Period.month(date(2026, 10, 1))


def test_previous_and_last_year_periods_keep_kind_and_length():
    assert Period.quarter(2026, 1).previous() == Period.quarter(2025, 4)
    assert Period.quarter(2026, 3).shifted(-12) == Period.quarter(2025, 3)
    assert Period.month(date(2026, 1, 1)).previous() == Period.month(date(2025, 12, 1))
    window = Rolling(3).ending(date(2026, 10, 1))
    assert window.previous() == Rolling(3).ending(date(2026, 7, 1))
    assert window.shifted(-12).start == date(2025, 8, 1)
    assert Period.month(date(2024, 2, 1)).end == date(2024, 2, 29)
    assert Period.quarter(2026, 4).month_starts() == [date(2026, 10, 1), date(2026, 11, 1), date(2026, 12, 1)]


# --------------------------------------------------------------------------- the default choice


def _volumes(counts: dict[str, int], last_day: date) -> Volumes:
    months = []
    for key, n in counts.items():
        month = date(int(key[:4]), int(key[5:]), 1)
        months.append(MonthVolume(month, n, n, add_months(month, 1) - timedelta(days=1) <= last_day))
    return Volumes(tuple(months), last_day)


# A trust's export: ends seven days into December, November nearly empty (the case).
TRUST = _volumes({"2022-08": 180, "2022-09": 210, "2022-10": 12, "2022-11": 2, "2022-12": 9}, date(2022, 12, 7))


def test_default_is_the_latest_complete_month_with_enough_responses_and_says_why():
    chosen = choice.choose(None, TRUST)
    assert chosen.period == Period.month(date(2022, 9, 1))
    assert chosen.responses == 210 and chosen.warning is None and chosen.adequate is None
    assert "September 2022 is the latest complete month with at least 30 responses (210)" in chosen.reason
    assert "October 2022 (12 responses, fewer than 30)" in chosen.reason
    assert "November 2022 (2 responses, fewer than 30)" in chosen.reason
    assert "December 2022 (incomplete: the data ends on 7 December 2022)" in chosen.reason
    # The minimum is a parameter: with 10, October is adequate.
    assert choice.choose(None, TRUST, min_responses=10).period == Period.month(date(2022, 10, 1))


def test_a_thin_period_asked_for_is_reported_with_a_warning_and_the_adequate_month():
    chosen = choice.choose(Period.month(date(2022, 11, 1)), TRUST)
    assert chosen.period == Period.month(date(2022, 11, 1))
    assert "November 2022 has only 2 responses, fewer than the 30" in chosen.warning
    assert chosen.adequate == Period.month(date(2022, 9, 1))
    partial = choice.choose(Period.quarter(2022, 4), TRUST)
    assert partial.responses == 23 and "not complete: the data ends on 7 December 2022" in partial.warning
    empty = choice.choose(Period.month(date(2021, 1, 1)), TRUST)
    assert "There is no feedback in January 2021" in empty.warning and empty.adequate == Period.month(date(2022, 9, 1))
    assert choice.choose(Period.quarter(2022, 3), TRUST).warning is None


def test_rolling_windows_end_with_the_latest_complete_month():
    chosen = choice.choose(Rolling(3), TRUST)
    assert chosen.period == Rolling(3).ending(date(2022, 11, 1))
    assert chosen.responses == 210 + 12 + 2
    assert chosen.reason == "The 3 months up to November 2022, the latest complete month of data."


def test_without_an_adequate_month_the_latest_complete_one_is_reported_with_a_warning():
    thin = _volumes({"2022-10": 5, "2022-11": 3}, date(2022, 11, 30))
    chosen = choice.choose(None, thin)
    assert chosen.period == Period.month(date(2022, 11, 1))
    assert chosen.reason.startswith("No complete month has 30 or more responses")
    assert chosen.warning and chosen.adequate is None


def test_available_lists_every_month_and_quarter_newest_first():
    listed = choice.available(TRUST, MIN_RESPONSES, also=Rolling(3).ending(date(2022, 11, 1)))
    keys = [a.period.key for a in listed]
    assert keys[:4] == ["2022-Q4", "2022-12", "2022-09-to-2022-11", "2022-11"]
    assert {"2022-Q3", "2022-08", "2022-09", "2022-10"} <= set(keys)
    by_key = {a.period.key: a for a in listed}
    assert by_key["2022-09"].adequate and not by_key["2022-11"].adequate
    assert not by_key["2022-12"].complete and not by_key["2022-Q4"].complete
    # Q3 starts before the data does (August is its first month): not complete, not adequate.
    assert not by_key["2022-Q3"].complete and by_key["2022-Q3"].responses == 390


# --------------------------------------------------------------------------- windowed views


@pytest.fixture(scope="module")
def sample_wh(tmp_path_factory):
    base = tmp_path_factory.mktemp("report-periods")
    settings = _settings(base)
    with warehouse.connect(settings) as con:
        sample.load_sample(settings, con, n_records=3000)
        prepare_reporting(settings, con)
        yield settings, con, base


def _frame(con, sql: str) -> pd.DataFrame:
    return con.execute(sql).df()


def _assert_same(monthly: pd.DataFrame, windowed: pd.DataFrame, keys: list[str]) -> None:
    windowed = windowed[list(monthly.columns)]
    a = monthly.sort_values(keys).reset_index(drop=True)
    b = windowed.sort_values(keys).reset_index(drop=True)
    assert len(a) == len(b) > 0
    for column in a.columns:
        left, right = a[column], b[column]
        if pd.api.types.is_numeric_dtype(left) or pd.api.types.is_numeric_dtype(right):
            left, right = left.astype("float64"), right.astype("float64")
        pd.testing.assert_series_equal(left, right, check_names=False, check_exact=False, rtol=1e-9)


@pytest.mark.parametrize(
    ("monthly", "windowed", "keys"),
    [
        ("rpt_kpi_monthly", "rpt_kpi_window_cells", ["kpi_id", "month", "scope_type", "scope_value"]),
        ("rpt_kpi_period_change", "rpt_kpi_window_change", ["kpi_id", "month", "scope_type", "scope_value"]),
        ("rpt_theme_ranking", "rpt_theme_window_ranking", ["theme_id", "month"]),
        ("rpt_theme_segments", "rpt_theme_window_segments", ["theme_id", "month", "segment_type", "segment_value"]),
        ("rpt_complaints_by_category_site", "rpt_complaints_window_category_site", ["month", "site", "category"]),
    ],
)
def test_one_month_windows_equal_the_monthly_views(sample_wh, monthly, windowed, keys):
    _, con, _ = sample_wh
    renames = {"window_end": "month", "prev_window_end": "prev_month", "last_year_window_end": "last_year_month"}
    window_rows = _frame(con, f"select * from reporting.{windowed} where window_months = 1").rename(columns=renames)
    _assert_same(_frame(con, f"select * from reporting.{monthly}"), window_rows, keys)


def _quarter_kpis(con) -> dict[str, dict]:
    rows = _frame(
        con,
        "select * from reporting.rpt_kpi_window_change where window_end = date '2026-09-01' and window_months = 3 "
        "and scope_type in ('overall', 'survey_type')",
    )
    return {(r["kpi_id"], r["scope_value"]): r for r in rows.to_dict(orient="records")}


def test_a_quarters_kpis_equal_the_same_kpis_computed_from_the_responses(sample_wh):
    _, con, _ = sample_wh
    kpis = _quarter_kpis(con)
    q3 = _frame(con, "select * from marts.fct_responses where month between date '2026-07-01' and date '2026-09-01'")
    q2 = _frame(con, "select * from marts.fct_responses where month between date '2026-04-01' and date '2026-06-01'")
    assert kpis[("responses", "All")]["value"] == len(q3)
    assert kpis[("responses", "All")]["prev_value"] == len(q2)
    fft = q3[q3["fft_category"].notna()]
    assert kpis[("fft_positive_pct", "All")]["value"] == pytest.approx(100 * (fft["fft_category"] == "positive").mean())
    nps = q3[q3["nps_class"].notna()]
    expected_nps = 100 * ((nps["nps_class"] == "promoter").mean() - (nps["nps_class"] == "detractor").mean())
    assert kpis[("nps", "All")]["value"] == pytest.approx(expected_nps)
    # The mean KPI's pooled standard deviation equals the sample sd of the quarter's ratings.
    rated = q3[q3["rating_value"].notna() & (q3["rating_scale"] == "fft5")]
    cell = _frame(
        con,
        "select * from reporting.rpt_kpi_window_cells where window_end = date '2026-09-01' and window_months = 3 "
        "and kpi_id = 'satisfaction_mean' and scope_value = 'fft5'",
    ).iloc[0]
    assert cell["value"] == pytest.approx(100 * rated["rating_value"].mean())
    assert cell["std_dev"] == pytest.approx(100 * rated["rating_value"].std(ddof=1))
    assert cell["n"] == len(rated)
    # Medians cannot be pooled from months: not shown for a quarter, never a wrong number.
    assert np.isnan(kpis[("resolution_median_wd", "All")]["value"])


def test_a_quarters_theme_volumes_and_momentum_baseline(sample_wh):
    _, con, _ = sample_wh
    ranked = _frame(
        con,
        "select * from reporting.rpt_theme_window_ranking where window_end = date '2026-09-01' and window_months = 3",
    ).set_index("theme_id")
    monthly = _frame(con, "select * from marts.fct_kpi_theme_monthly where scope_type = 'overall'")
    monthly["month"] = pd.to_datetime(monthly["month"]).dt.date
    totals = monthly.groupby("month")["total_comments"].max()
    q3 = monthly[(monthly["month"] >= date(2026, 7, 1)) & (monthly["month"] <= date(2026, 9, 1))]
    before = monthly[(monthly["month"] >= date(2025, 10, 1)) & (monthly["month"] < date(2026, 7, 1))]
    q3_total = totals[(totals.index >= date(2026, 7, 1)) & (totals.index <= date(2026, 9, 1))].sum()
    before_total = totals[(totals.index >= date(2025, 10, 1)) & (totals.index < date(2026, 7, 1))].sum()
    for theme_id, comments in q3.groupby("theme_id")["comments"].sum().items():
        row = ranked.loc[theme_id]
        if row["suppressed"]:
            continue
        assert row["comments"] == comments
        assert row["share_pct"] == pytest.approx(100 * comments / q3_total)
        baseline = before[before["theme_id"] == theme_id]["comments"].sum() / before_total
        assert row["baseline_share_pct"] == pytest.approx(100 * baseline)
        clauses = q3[q3["theme_id"] == theme_id][["positive_clauses", "neutral_clauses", "negative_clauses"]].sum()
        assert row["negative_pct"] == pytest.approx(100 * clauses["negative_clauses"] / clauses.sum())
    shown = ranked[~ranked["suppressed"]].sort_values("rank_volume")
    assert shown["rank_volume"].iloc[0] == 1 and shown["comments"].is_monotonic_decreasing


# --------------------------------------------------------------------------- pages of a quarter and weight


def test_quarter_and_rolling_pages_and_every_page_under_the_weight_limit(sample_wh):
    settings, con, base = sample_wh
    written = write_reports(settings, con, parse_period("2026-Q3"), base / "q3", "unit")
    written += write_reports(settings, con, Rolling(3), base / "q3", "unit")
    written += write_reports(settings, con, None, base / "q3", "unit")
    pages = {p.name: p for p in written if p.suffix == ".html"}
    assert {"theme-report-2026-Q3.html", "trend-pack-2026-Q3.html", "theme-report-2026-08-to-2026-10.html"} <= set(
        pages
    )
    for path in pages.values():
        assert path.stat().st_size <= html.PAGE_BYTES_MAX, f"{path.name}: {path.stat().st_size / MB:.2f} MB"
    trend = pages["trend-pack-2026-Q3.html"].read_text(encoding="utf-8")
    assert "KPIs: 2026 Q3 (July to September) vs 2026 Q2 (April to June) and 2025 Q3 (July to September)" in trend
    assert "Same period last year" in trend
    theme = pages["theme-report-2026-Q3.html"].read_text(encoding="utf-8")
    data = json.loads(re.search(r'id="comments-data">(.*?)</script>', theme, flags=re.S).group(1))
    assert data["period"] == "2026-Q3" and data["period_months"] == ["2026-07", "2026-08", "2026-09"]
    assert (base / "q3" / "exports" / "2026-Q3" / "trend-pack" / "kpi_table.csv").is_file()


def test_the_comment_explorer_stops_at_its_byte_budget(sample_wh, monkeypatch):
    settings, con, base = sample_wh
    monkeypatch.setattr(theme_report, "COMMENTS_JSON_BYTES", 20_000)
    written = write_reports(settings, con, parse_period("2026-10"), base / "small", "unit")
    page = next(p for p in written if p.name == "theme-report-2026-10.html").read_text(encoding="utf-8")
    data = json.loads(re.search(r'id="comments-data">(.*?)</script>', page, flags=re.S).group(1))
    assert data["truncated"] is True
    assert 0 < len(json.dumps(data["comments"], ensure_ascii=False).encode()) <= 20_000
    dates = [c["d"] for c in data["comments"]]
    assert dates == sorted(dates, reverse=True)  # the newest are kept
    exported = pd.read_csv(base / "small" / "exports" / "2026-10" / "theme-report" / "comments.csv")
    assert len(exported) > len(data["comments"])  # the export keeps every comment


# --------------------------------------------------------------------------- a thin last month


@pytest.fixture(scope="module")
def thin_reports(tmp_path_factory):
    """Data to 7 November 2026 with October cut to two records: the default must be September."""
    base = tmp_path_factory.mktemp("thin-month")
    settings = _settings(base)
    with warehouse.connect(settings) as con:
        sample.load_sample(settings, con, n_records=1500, end=date(2026, 11, 7))
        con.execute(
            "delete from raw.feedback where timezone('Europe/London', received_at) >= timestamp '2026-10-01' "
            "and timezone('Europe/London', received_at) < timestamp '2026-11-01' and feedback_id not in ("
            "  select feedback_id from raw.feedback where timezone('Europe/London', received_at) "
            "  between timestamp '2026-10-02' and timestamp '2026-10-31' order by received_at limit 2)"
        )
        warehouse.build_models(con, settings)
        prepare_reporting(settings, con)
        volumes = choice.month_volumes(settings, con)
        default = write_reports(settings, con, None, base / "default", "thin-run")
        asked = write_reports(settings, con, parse_period("2026-10"), base / "out", "thin-run")
    return volumes, default, asked, base / "out"


def test_the_default_skips_the_thin_month_and_the_incomplete_one(thin_reports):
    volumes, default, _, _ = thin_reports
    by_month = {m.month: m for m in volumes.months}
    assert by_month[date(2026, 10, 1)].responses <= 2 and not by_month[date(2026, 11, 1)].is_complete
    names = [p.name for p in default if p.suffix == ".html"]
    assert names == ["theme-report-2026-09.html", "trend-pack-2026-09.html", "run-status.html", "index.html"]
    page = default[0].read_text(encoding="utf-8")
    assert "Chosen automatically: September 2026 is the latest complete month with at least 30 responses" in page
    assert "October 2026 (" in page and "fewer than 30)" in page
    assert "November 2026 (incomplete: the data ends on 7 November 2026)" in page
    assert 'id="period-warning"' not in page
    assert 'id="chart-theme-trends"' in page and 'id="theme-ranking"' in page


def test_a_thin_month_asked_for_warns_links_the_adequate_month_and_still_draws_trends(thin_reports):
    _, _, asked, out = thin_reports
    names = [p.name for p in asked if p.suffix == ".html"]
    assert names[:4] == [
        "theme-report-2026-10.html",
        "trend-pack-2026-10.html",
        "theme-report-2026-09.html",
        "trend-pack-2026-09.html",
    ]
    for report in ("theme-report", "trend-pack"):
        page = (out / f"{report}-2026-10.html").read_text(encoding="utf-8")
        assert 'id="period-warning"' in page and "October 2026 has only" in page
        link = re.search(r'id="adequate-link" href="([^"]+)"', page).group(1)
        assert link == f"{report}-2026-09.html" and (out / link).is_file()
    theme = (out / "theme-report-2026-10.html").read_text(encoding="utf-8")
    assert 'id="chart-theme-trends"' in theme  # trends over every month, though October has no theme
    trend = (out / "trend-pack-2026-10.html").read_text(encoding="utf-8")
    assert 'id="chart-kpi-fft_positive_pct"' in trend and re.search(r'id="chart-theme-T\d+"', trend)


def test_the_index_lists_every_period_with_data(thin_reports):
    volumes, _, _, out = thin_reports
    index = (out / "index.html").read_text(encoding="utf-8")
    listed = re.findall(r'<tr data-period="([^"]+)"', index)
    months = [f"{m.month:%Y-%m}" for m in volumes.months]
    assert set(months) <= set(listed) and {"2026-Q3", "2026-Q4"} <= set(listed)
    assert listed.index("2026-11") < listed.index("2026-10") < listed.index("2026-09")
    assert 'href="theme-report-2026-09.html"' in index and "feedback report --period 2026-07" in index
