"""The reporting views: conventions, hand-computed KPIs, suppression and the SQL significance tests."""

import re
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from pipelines import schema, stats, warehouse
from pipelines.config import Settings
from pipelines.demo import report_sample as sample
from pipelines.insights import kpis
from pipelines.insights.kpis import prepare_reporting as prepare

ROOT = Path(__file__).resolve().parents[2]
REPORTING = ROOT / "sql" / "reporting"
# Views that read library-written tables directly (ingest bookkeeping for the data team).
DIRECT_READS = {
    "rpt_ingest_reconciliation": {"raw.ingest_batches"},
    "rpt_quarantine": {"raw.quarantine"},
    # links each quarantined row to its batch (reasons and row numbers only, never the raw row)
    "rpt_quarantine_batches": {"raw.quarantine"},
}


def _settings(base: Path, min_cell: int = 5) -> Settings:
    return Settings.from_env(
        {"FEEDBACK_HOME": str(ROOT), "FEEDBACK_WAREHOUSE": str(base / "wh.duckdb"), "FEEDBACK_MIN_CELL": str(min_cell)}
    )


# --------------------------------------------------------------------------- conventions


@pytest.mark.parametrize("path", sorted(REPORTING.glob("*.sql")), ids=lambda p: p.stem)
def test_one_documented_view_per_file(path):
    text = path.read_text(encoding="utf-8")
    header = []
    for line in text.splitlines():
        if not line.startswith("--"):
            break
        header.append(line)
    assert header, f"{path.name} needs a header comment documenting the view"
    created = re.findall(r"create or replace (\w+) ([\w.]+)", text, flags=re.I)
    assert created == [("view", f"reporting.{path.stem}")]


@pytest.mark.parametrize("path", sorted(REPORTING.glob("*.sql")), ids=lambda p: p.stem)
def test_views_read_marts_reporting_and_ops_only(path):
    body = "\n".join(line for line in path.read_text(encoding="utf-8").splitlines() if not line.startswith("--"))
    reads = set(re.findall(r"\b((?:raw|enrich|staging|intermediate)\.\w+)", body))
    assert reads <= DIRECT_READS.get(path.stem, set()), f"{path.stem} reads {reads}"


# --------------------------------------------------------------------------- hand-computed KPIs


def _rows() -> list[dict]:
    rows = []

    def add(**values):
        record = dict.fromkeys(schema.COLUMNS)
        record.update(values)
        record["site"] = record["site"] or "Site A"
        record["service"] = record["service"] or "Outpatients"
        record["source_timezone"] = "Europe/London"
        record["feedback_id"] = schema.feedback_id(record["source"], record["source_record_id"])
        record["record_hash"] = record["feedback_id"]
        record["batch_id"] = "b1"
        record["ingested_at"] = datetime(2027, 3, 1, tzinfo=UTC)
        rows.append(record)

    october = datetime(2026, 10, 14, 12, tzinfo=UTC)
    fft = [
        ("Very good", 1.0),
        ("Very good", 1.0),
        ("Very good", 1.0),
        ("Good", 0.75),
        ("Good", 0.75),
        ("Neither good nor poor", 0.5),
        ("Poor", 0.25),
        ("Don't know", None),
        (None, None),
    ]
    for i, (raw, value) in enumerate(fft, start=1):
        base = dict(
            channel="survey",
            source="fft",
            response_id=f"R{i}",
            received_at=october,
            rating_scale="fft5",
            rating_raw=raw,
            rating_value=value,
        )
        if i == 3:  # one response, two free-text answers: counts once
            add(**base, source_record_id="R3#good", question_key="good", text="t")
            add(**base, source_record_id="R3#improve", question_key="improve", text="t")
        elif i == 1:
            add(**base, source_record_id="R1#good", question_key="good", text="t")
        else:
            add(**base, source_record_id=f"R{i}")
    for i, score in enumerate([9, 10, 10, 8, 7, 6, 0, 5, 9, 10], start=1):
        add(
            channel="survey",
            source="nps",
            response_id=f"N{i}",
            source_record_id=f"N{i}#reason",
            received_at=october,
            rating_scale="nps11",
            rating_raw=str(score),
            rating_value=score / 10,
            nps=score,
            text="t" if i == 1 else None,
            question_key="reason",
        )

    def ts(day: str | None) -> datetime | None:
        return datetime.fromisoformat(day).replace(hour=10, tzinfo=UTC) if day else None

    complaints = [  # ref, opened, acknowledged, closed, status, contacts, minutes
        ("C1", "2026-12-24", "2026-12-29", "2027-01-04", "closed", 1, 30),
        ("C2", "2026-12-21", "2026-12-31", "2027-02-15", "closed", 2, 90),
        ("C3", "2026-12-01", None, None, "open", None, None),
        ("C4", "2026-12-30", None, None, "open", None, None),
        ("C5", "2026-12-02", "2026-12-03", "2026-12-10", "reopened", 1, 45),
    ]
    for ref, opened, ack, closed, status, contacts, minutes in complaints:
        add(
            channel="complaint",
            source="complaints",
            response_id=ref,
            source_record_id=ref,
            received_at=ts(opened),
            opened_at=ts(opened),
            acknowledged_at=ts(ack),
            closed_at=ts(closed),
            complaint_status=status,
            complaint_category="Billing",
            contact_count=contacts,
            handling_minutes=minutes,
            text="t",
        )
    return rows


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """A hand-made warehouse with k = 1, so every number can be checked exactly."""
    settings = _settings(tmp_path_factory.mktemp("tiny"), min_cell=1)
    feedback = pd.DataFrame(_rows(), columns=list(schema.COLUMNS))
    for column, dtype in schema.DTYPES.items():
        if dtype.startswith("datetime64"):
            feedback[column] = pd.to_datetime(feedback[column], utc=True)
    scored = feedback[feedback["text"].notna() & (feedback["channel"] == "survey")]
    sentiment = pd.DataFrame(
        {
            "feedback_id": scored["feedback_id"],
            "record_hash": scored["record_hash"],
            "is_informative": True,
            "label5": ["positive", "positive", "negative", "neutral"],
            "label3": ["positive", "positive", "negative", "neutral"],
            "score": [0.5, 0.5, -0.5, 0.0],
            "confidence": 0.9,
            "is_mixed": False,
            "model_version": "m",
            "scored_at": datetime(2027, 3, 1, tzinfo=UTC),
        }
    )
    history = feedback[feedback["source_record_id"] == "C5"].assign(
        complaint_status="closed", valid_from=datetime(2026, 12, 10, tzinfo=UTC)
    )
    with warehouse.connect(settings) as con:
        warehouse.apply_schema(con, settings)
        con.register("f", feedback)
        con.register("s", sentiment)
        con.register("h", history)
        con.execute("insert into raw.feedback by name select * from f")
        con.execute("insert into raw.feedback_history by name select * from h")
        con.execute("insert into enrich.sentiment by name select * from s")
        warehouse.build_models(con, settings)
        prepare(settings, con)
    con = duckdb.connect(str(settings.warehouse), read_only=True)
    yield con
    con.close()


def _kpi(con, kpi_id: str, month: str, scope_type: str = "overall", scope_value: str = "All"):
    row = con.execute(
        "select value, n, suppressed from reporting.rpt_kpi_monthly "
        "where kpi_id = ? and month = ? and scope_type = ? and scope_value = ?",
        [kpi_id, month, scope_type, scope_value],
    ).fetchone()
    return row


def test_fft_uses_nhs_england_denominator(tiny):
    # 5 positive (3 very good, 2 good) of 8 answers; Don't know counts, a missing answer does not.
    assert _kpi(tiny, "fft_positive_pct", "2026-10-01")[:2] == (pytest.approx(62.5), 8)
    assert _kpi(tiny, "fft_negative_pct", "2026-10-01")[:2] == (pytest.approx(12.5), 8)
    assert _kpi(tiny, "fft_positive_pct", "2026-10-01", "site", "Site A")[0] == pytest.approx(62.5)


def test_satisfaction_nps_volumes_and_sentiment(tiny):
    assert _kpi(tiny, "satisfaction_mean", "2026-10-01", "survey_type", "fft5")[:2] == (pytest.approx(75.0), 7)
    assert _kpi(tiny, "satisfaction_top_box_pct", "2026-10-01", "survey_type", "fft5")[0] == pytest.approx(300 / 7)
    assert _kpi(tiny, "satisfaction_top_box_pct", "2026-10-01", "survey_type", "nps11")[0] == pytest.approx(50.0)
    assert _kpi(tiny, "nps", "2026-10-01")[:2] == (pytest.approx(20.0), 10)
    assert _kpi(tiny, "responses", "2026-10-01")[0] == 19  # R3's two answers are one response
    assert _kpi(tiny, "responses", "2026-10-01", "channel", "survey")[0] == 19
    assert _kpi(tiny, "negative_sentiment_pct", "2026-10-01")[:2] == (pytest.approx(25.0), 4)


def test_complaint_clock_in_working_days(tiny):
    cal = kpis.calendar_frame("GB", 2026, 2027)
    rows = {
        r[0]: r[1:]
        for r in tiny.execute(
            "select complaint_ref, ack_working_days, is_ack_within_3wd, resolution_working_days, is_over_target, "
            "is_first_contact_resolution, is_reopened from marts.fct_complaints"
        ).fetchall()
    }
    assert rows["C1"][:2] == (1, True)  # Christmas and the Boxing Day substitute are not working days
    assert rows["C2"][:2] == (6, False)
    assert rows["C3"][:2] == (None, False)  # never acknowledged, long overdue at the as-of date
    assert rows["C4"][:2] == (None, None)  # not acknowledged yet, still within 3 working days
    assert rows["C1"][2] == kpis.working_days_between(cal, date(2026, 12, 24), date(2027, 1, 4)) == 4
    assert rows["C2"][2] == kpis.working_days_between(cal, date(2026, 12, 21), date(2027, 2, 15))
    assert rows["C2"][3] is True and rows["C1"][3] is False  # target 25 working days
    assert rows["C1"][4] is True and rows["C2"][4] is False
    assert rows["C5"][5] is True and rows["C1"][5] is False  # reopened via its history


def test_complaint_kpis(tiny):
    assert _kpi(tiny, "complaints", "2026-12-01")[0] == 5
    assert _kpi(tiny, "complaints", "2026-12-01", "category", "Billing")[0] == 5
    assert _kpi(tiny, "ack_within_3wd_pct", "2026-12-01")[:2] == (pytest.approx(50.0), 4)
    assert _kpi(tiny, "reopened_pct", "2026-12-01")[0] == pytest.approx(20.0)
    assert _kpi(tiny, "resolution_median_wd", "2026-12-01")[0] == pytest.approx(6.0)
    # By month closed: C5 (December, 1 contact), C1 (January, 1 contact), C2 (February, 2 contacts).
    assert _kpi(tiny, "first_contact_resolution_pct", "2026-12-01")[:2] == (pytest.approx(100.0), 1)
    assert _kpi(tiny, "first_contact_resolution_pct", "2027-01-01")[:2] == (pytest.approx(100.0), 1)
    assert _kpi(tiny, "first_contact_resolution_pct", "2027-02-01")[:2] == (pytest.approx(0.0), 1)
    assert _kpi(tiny, "resolution_over_target_pct", "2027-02-01")[0] == pytest.approx(100.0)
    assert _kpi(tiny, "avg_handling_minutes", "2026-12-01")[0] == pytest.approx(45.0)


# --------------------------------------------------------------------------- the synthetic sample


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    settings = _settings(tmp_path_factory.mktemp("sample"))
    with warehouse.connect(settings) as write:
        sample.load_sample(settings, write, n_records=3000)
        prepare(settings, write)
    connection = duckdb.connect(str(settings.warehouse), read_only=True)
    yield connection
    connection.close()


def test_every_reporting_view_answers(con):
    views = [
        r[0] for r in con.execute("select view_name from duckdb_views() where schema_name = 'reporting'").fetchall()
    ]
    assert {p.stem for p in REPORTING.glob("*.sql")} <= set(views)
    for view in views:
        con.execute(f"select * from reporting.{view} limit 5").fetchall()
    text_columns = con.execute(
        "select table_name, column_name from information_schema.columns where table_schema = 'reporting' "
        "and column_name in ('text', 'raw_text', 'raw_row')"
    ).fetchall()
    assert text_columns == []


def test_kpi_cells_under_k_are_suppressed(con):
    frame = con.execute("select * from reporting.rpt_kpi_monthly").df()
    shown = frame[~frame["suppressed"]]
    assert (shown["n"] >= 5).all()
    hidden = frame[frame["suppressed"]]
    assert len(hidden) > 0
    assert hidden[["n", "numerator", "denominator", "value"]].isna().all().all()
    # The tiny site never shows a value.
    tiny_site = frame[frame["scope_value"] == sample.TINY_SITE]
    assert len(tiny_site) > 0 and tiny_site["value"].isna().all()


def test_no_breakdown_hides_exactly_one_cell(con):
    counts = con.execute(
        "select kpi_id, month, scope_type, count(*) filter (where suppressed) as hidden, count(*) as cells "
        "from reporting.rpt_kpi_monthly where scope_type <> 'overall' group by all"
    ).df()
    assert not ((counts["hidden"] == 1) & (counts["cells"] > 1)).any()


@pytest.mark.parametrize(
    ("view", "count_column"),
    [
        ("rpt_theme_monthly", "comments"),
        ("rpt_theme_ranking", "comments"),
        ("rpt_theme_segments", "comments"),
        ("rpt_theme_alerts", "count"),
        ("rpt_key_drivers", "n"),
        ("rpt_segment_lift", "n"),
        ("rpt_complaints_by_category_site", "complaints"),
        ("rpt_theme_summary", "comments"),
    ],
)
def test_theme_and_insight_views_suppress_small_cells(con, view, count_column):
    frame = con.execute(f"select * from reporting.{view}").df()
    assert len(frame), view
    assert (frame.loc[~frame["suppressed"], count_column] >= 5).all()
    assert frame.loc[frame["suppressed"], count_column].isna().all()


def test_sql_significance_matches_python(con):
    rows = con.execute(
        "select c.*, p.numerator as pn, p.denominator as pd, p.std_dev as psd, p.detractors as pdet, "
        "m.numerator as cn, m.denominator as cd, m.std_dev as csd, m.detractors as cdet "
        "from reporting.rpt_kpi_period_change as c "
        "join reporting.rpt_kpi_monthly as m using (kpi_id, month, scope_type, scope_value) "
        "join reporting.rpt_kpi_monthly as p on p.kpi_id = c.kpi_id and p.scope_type = c.scope_type "
        "and p.scope_value = c.scope_value and p.month = c.prev_month "
        "where c.z_vs_prev is not null"
    ).df()
    assert set(rows["test"]) == {"proportion", "poisson", "nps", "mean"}
    for r in rows.itertuples():
        if r.test == "proportion":
            ref = stats.two_proportion_z(r.cn, r.cd, r.pn, r.pd)
        elif r.test == "poisson":
            ref = stats.poisson_rate_z(r.cn, r.cd, r.pn, r.pd)
        elif r.test == "nps":
            ref = stats.nps_z(r.cn, r.cdet, r.cd, r.pn, r.pdet, r.pd)
        else:
            ref = stats.welch_z(r.value, r.csd, r.cd, r.prev_value, r.psd, r.pd)
        assert r.z_vs_prev == pytest.approx(ref.z), (r.kpi_id, r.scope_value, r.month)
        assert bool(r.significant_vs_prev) == ref.significant


def test_control_limits_bracket_the_centre(con):
    frame = con.execute("select * from reporting.rpt_kpi_control_limits where scope_type = 'overall'").df()
    assert {"fft_positive_pct", "nps", "complaints", "negative_sentiment_pct"} <= set(frame["kpi_id"])
    assert (frame["lower_limit"] <= frame["centre"] + 1e-9).all() and (
        frame["centre"] <= frame["upper_limit"] + 1e-9
    ).all()
    pooled = con.execute(
        "select 100 * sum(numerator) / sum(denominator) from reporting.rpt_kpi_monthly "
        "where kpi_id = 'fft_positive_pct' and scope_type = 'overall' and not suppressed"
    ).fetchone()[0]
    centre = frame.loc[frame["kpi_id"] == "fft_positive_pct", "centre"].iloc[0]
    assert centre == pytest.approx(pooled)


def test_planted_patterns_show_where_their_audience_looks(con):
    ranking = con.execute(
        "select theme_label, rank_momentum, momentum_significant from reporting.rpt_theme_ranking "
        "where month = '2026-10-01' and not suppressed order by rank_momentum"
    ).fetchall()
    assert ranking[0][0] == "Car parking" and ranking[0][2]
    alerts = con.execute(
        "select theme_label, segment_value from reporting.rpt_theme_alerts where not suppressed"
    ).fetchall()
    assert alerts == [("Car parking", "North Hospital")]
    complaint_themes = con.execute(
        "select distinct theme_label from reporting.rpt_theme_ranking where is_complaint_theme"
    ).fetchall()
    assert ("Billing and charges",) in complaint_themes
    verdicts = dict(con.execute("select action_id, verdict from reporting.rpt_actions").fetchall())
    assert verdicts == {"A-sample-1": "theme mentioned less (significant)", "A-sample-2": "too early to tell"}
    needs = con.execute(
        "select reason, count(*) from reporting.rpt_comments_needing_response group by reason"
    ).fetchall()
    assert {r for r, _ in needs} == {"very negative comment", "open complaint", "negative comment on a complaint theme"}


def test_quotes_are_diverse_and_redacted(con):
    quotes = con.execute(
        "select theme_id, list(quote), list(distinct sentiment) from reporting.rpt_theme_quotes "
        "where month = '2026-10-01' group by theme_id"
    ).fetchall()
    assert quotes
    for _, texts, sentiments in quotes:
        assert 1 <= len(texts) <= 5 and len(set(texts)) == len(texts)
        assert len(texts) < 3 or len(sentiments) >= 2
        assert not any(phi in t for t in texts for phi in sample.PLANTED_PHI)


def test_kpi_definitions_cover_every_kpi(con):
    defined = {r[0] for r in con.execute("select kpi_id from reporting.rpt_kpi_definitions").fetchall()}
    computed = {r[0] for r in con.execute("select distinct kpi_id from marts.fct_kpi_monthly").fetchall()}
    assert computed == defined
    docs = (ROOT / "docs" / "kpis.md").read_text(encoding="utf-8")
    for kpi_id in defined:
        assert f"`{kpi_id}`" in docs, f"docs/kpis.md does not define {kpi_id}"


# --------------------------------------------------------------------------- row order


def test_reporting_views_do_not_depend_on_the_order_rows_were_stored(tmp_path):
    """Floating-point sums, means and standard deviations depend on the order they add up in; an
    incremental history stores rows in another order than one full run (issue 16). The views of a
    warehouse whose raw and enrich rows are stored shuffled must hold exactly the same values."""
    from benchmarks.incremental import reporting_snapshot

    settings = _settings(tmp_path)
    with warehouse.connect(settings) as write:
        sample.load_sample(settings, write, n_records=600)
        prepare(settings, write)
    before = reporting_snapshot(settings.warehouse)
    with warehouse.connect(settings) as write:
        tables = write.execute(
            "select schema_name || '.' || table_name from duckdb_tables() where schema_name in ('raw', 'enrich')"
        ).fetchall()
        write.execute("select setseed(0.42)")
        for (table,) in tables:
            write.execute(f"create temp table shuffled as select * from {table} order by random()")
            write.execute(f"delete from {table}")
            write.execute(f"insert into {table} select * from shuffled")
            write.execute("drop table shuffled")
    warehouse.init(settings, force=True)
    after = reporting_snapshot(settings.warehouse)
    assert before.keys() == after.keys()
    assert [view for view in before if before[view] != after[view]] == []


def test_a_comment_counts_once_in_each_category_it_touches(tmp_path):
    """rpt_category_window_ranking counts distinct comments: a comment on two themes of one
    category (or on two clauses of one theme) counts once there, in a month and in a quarter."""
    settings = _settings(tmp_path, min_cell=1)
    with warehouse.connect(settings) as write:
        sample.load_sample(settings, write, n_records=600)
        prepare(settings, write)
        # Two themes one comment touches, put into one category.
        a, b = write.execute(
            "select min(x.theme_id), max(x.theme_id) from marts.fct_feedback_theme as x "
            "group by x.feedback_id having count(distinct x.theme_id) >= 2 order by x.feedback_id limit 1"
        ).fetchone()
        write.execute(
            "update enrich.themes set category_id = 'both', category_name = 'Both' where theme_id in ($a, $b)",
            {"a": a, "b": b},
        )
    warehouse.init(settings, force=True)
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        for months in (1, 3):
            view = con.execute(
                "select window_end, comments from reporting.rpt_category_window_ranking "
                "where category_name = 'Both' and window_months = $m",
                {"m": months},
            ).fetchall()
            direct = con.execute(
                "select w.window_end, count(distinct f.feedback_id) "
                "from (select distinct window_end, window_start from reporting.rpt_category_window_ranking "
                "      where window_months = $m) as w "
                "join marts.fct_feedback_theme as f on cast(f.month as date) between w.window_start and w.window_end "
                "where f.theme_id in ($a, $b) group by all",
                {"m": months, "a": a, "b": b},
            ).fetchall()
            summed = dict(
                con.execute(
                    "select window_end, sum(comments) from reporting.rpt_theme_window_ranking "
                    "where theme_id in ($a, $b) and window_months = $m group by all",
                    {"m": months, "a": a, "b": b},
                ).fetchall()
            )
            assert sorted(view) == sorted(direct) and view
            assert all(n <= summed[end] for end, n in view)
            assert any(n < summed[end] for end, n in view), "the shared comment counts once, not twice"
