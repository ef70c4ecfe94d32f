"""Insights on small synthetic inputs: emerging themes, FDR, key drivers, segment lift, SQL."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import numpy as np
import pandas as pd
import pytest

from pipelines import warehouse
from pipelines.insights import config, drivers, emerging, lift, logit, significance
from pipelines.insights import stage as insights

SITES = ("North", "River", "Hill")
MONTHS = [date(2025, m, 1) for m in range(1, 13)]


def _cfg(part: str, **overrides):
    return config.load_config(None, {part: overrides})[part]


def _counts(cells: dict[tuple[str, str], list[int]], totals: dict[str, list[int]]) -> pd.DataFrame:
    """Month-count frame: cells[(theme, site)] = theme comments per month, totals[site] = comments."""
    rows = []
    for site, per_month in totals.items():
        for month, n in zip(MONTHS, per_month, strict=True):
            rows.append(
                {"segment_type": "site", "segment_value": site, "period": month, "theme_id": None, "comments": n}
            )
    for (theme, site), per_month in cells.items():
        for month, x in zip(MONTHS, per_month, strict=True):
            if x:
                rows.append(
                    {"segment_type": "site", "segment_value": site, "period": month, "theme_id": theme, "comments": x}
                )
    return pd.DataFrame(rows)


def _planted_counts() -> pd.DataFrame:
    """100 comments per site-month; parking 2% everywhere and 15% at North from September."""
    totals = {s: [100] * 12 for s in SITES}
    cells = {("parking", s): [2] * 12 for s in SITES}
    cells[("parking", "North")] = [2] * 8 + [15] * 4
    cells.update({("food", s): [4] * 12 for s in SITES})
    return _counts(cells, totals)


# --------------------------------------------------------------------------------------
# Multiple comparisons
# --------------------------------------------------------------------------------------
def _bh_by_hand(p: np.ndarray) -> np.ndarray:
    """The hand-written Benjamini-Hochberg step-up that scipy's false_discovery_control replaced."""
    m = len(p)
    order = np.argsort(p, kind="mergesort")
    ranked = p[order] * m / np.arange(1, m + 1)
    ranked = np.minimum.accumulate(ranked[::-1])[::-1]
    out = np.empty(m)
    out[order] = np.minimum(ranked, 1.0)
    return out


def test_bh_matches_statsmodels_and_keeps_nans():
    from statsmodels.stats.multitest import multipletests

    rng = np.random.default_rng(1)
    p = np.concatenate([rng.uniform(size=40), rng.uniform(0, 1e-3, size=5)])
    expected = multipletests(p, method="fdr_bh")[1]
    np.testing.assert_allclose(significance.bh_qvalues(p), expected, rtol=1e-12)
    q = significance.bh_qvalues([0.01, np.nan, 0.04])
    assert np.isnan(q[1])
    np.testing.assert_allclose(q[[0, 2]], [0.02, 0.04])
    assert np.isnan(significance.bh_qvalues([np.nan, np.nan])).all()
    assert significance.bh_qvalues([]).shape == (0,)


def test_bh_q_values_are_those_of_the_hand_written_step_up():
    rng = np.random.default_rng(12)
    for size in (1, 2, 7, 100, 5000):
        p = rng.uniform(size=size) ** rng.uniform(0.3, 4)
        p[rng.integers(0, size, size=size // 5)] = 0.5  # ties
        ours, by_hand = significance.bh_qvalues(p), _bh_by_hand(p)
        # Equal up to the last bit of rounding (scipy multiplies by m / i, the old code by m then / i) ...
        np.testing.assert_allclose(ours, by_hand, rtol=1e-15, atol=0)
        # ... so the same hypotheses are rejected at every level.
        for alpha in (0.001, 0.01, 0.05, 0.1, 0.2):
            assert ((ours <= alpha) == (by_hand <= alpha)).all()


def test_fisher_matches_scipy():
    from scipy.stats import fisher_exact

    p = significance.fisher_greater(np.array([9]), np.array([60]), np.array([12]), np.array([400]))[0]
    assert p == pytest.approx(fisher_exact([[9, 51], [12, 388]], alternative="greater")[1])


# --------------------------------------------------------------------------------------
# Emerging themes
# --------------------------------------------------------------------------------------
def test_planted_surge_is_flagged_in_its_segment_and_month_only():
    cfg = _cfg("emerging", segments=["site"])
    tests = emerging.emerging_tests(_planted_counts(), cfg)
    alerts = emerging.select_alerts(tests, cfg)
    assert len(alerts) >= 1
    first = alerts.sort_values("period").iloc[0]
    assert (first["theme_id"], first["segment_value"], first["period"]) == ("parking", "North", date(2025, 9, 1))
    assert first["count"] == 15 and first["total"] == 100
    assert first["baseline_share"] == pytest.approx(0.02)
    assert first["lift"] == pytest.approx(7.5)
    assert first["baseline_from"] == date(2025, 3, 1) and first["baseline_to"] == date(2025, 8, 1)
    # Nothing at the other sites, nothing for the stable control, nothing before the surge.
    assert set(alerts["segment_value"]) == {"North"}
    assert set(alerts["theme_id"]) == {"parking"}
    assert alerts["period"].min() == date(2025, 9, 1)
    assert (alerts["q_value"] <= cfg["alpha"]).all()
    assert (alerts["family_size"] == len(tests)).all()


def _mix_counts(mh_share_new: float = 0.4) -> pd.DataFrame:
    """Segment 'all' by stratum: two acute sources all year (mental health 2%), and from
    September a mental-health trust's source whose comments are 40% about mental health."""
    rows = []
    for i, month in enumerate(MONTHS):
        strata = {"acute_fft / North / ED": (200, 4), "acute_fft / River / Wards": (200, 4)}
        if i >= 8:
            strata["mh_trust / Hill / Mental health"] = (150, int(150 * mh_share_new))
        for stratum, (n, x) in strata.items():
            base = {"segment_type": "all", "segment_value": "All", "period": month, "stratum": stratum}
            rows.append({**base, "theme_id": None, "comments": n})
            rows.append({**base, "theme_id": "mental_health", "comments": x})
            rows.append({**base, "theme_id": "food", "comments": 6})
    return pd.DataFrame(rows)


def test_a_new_source_is_a_source_change_not_an_emerging_theme():
    cfg = _cfg("emerging", segments=["all"])
    counts = _mix_counts()
    alerts = emerging.select_alerts(emerging.emerging_tests(counts, cfg), cfg)
    assert alerts.empty, alerts[["theme_id", "period", "share", "baseline_share"]]
    # Without strata (the mix ignored) the same data raises the misleading alert.
    pooled = (
        counts.drop(columns="stratum")
        .groupby(["segment_type", "segment_value", "period", "theme_id"], dropna=False, as_index=False)["comments"]
        .sum()
    )
    naive = emerging.select_alerts(emerging.emerging_tests(pooled, cfg), cfg)
    assert set(naive["theme_id"]) == {"mental_health"}
    changes = emerging.source_changes(counts, cfg)
    assert changes[["stratum", "change", "period"]].values.tolist() == [
        ["mh_trust / Hill / Mental health", "new source", date(2025, 9, 1)]
    ]
    assert changes.iloc[0]["comments"] == 150 and changes.iloc[0]["baseline_comments"] == 0


def test_a_real_rise_within_established_sources_still_alerts_next_to_a_new_source():
    cfg = _cfg("emerging", segments=["all"])
    counts = _mix_counts()
    rise = (counts["stratum"] == "acute_fft / North / ED") & (counts["theme_id"] == "mental_health")
    counts.loc[rise & (pd.to_datetime(counts["period"]) >= "2025-10-01"), "comments"] = 30
    alerts = emerging.select_alerts(emerging.emerging_tests(counts, cfg), cfg)
    assert set(alerts["theme_id"]) == {"mental_health"}
    first = alerts.sort_values("period").iloc[0]
    # The new source's comments are in neither side of the comparison.
    assert first["period"] == date(2025, 10, 1) and first["total"] == 400 and first["count"] == 34


def test_a_stopped_source_is_reported_and_left_out():
    cfg = _cfg("emerging", segments=["all"])
    counts = _mix_counts()
    gone = (counts["stratum"] == "acute_fft / River / Wards") & (pd.to_datetime(counts["period"]) >= "2025-11-01")
    changes = emerging.source_changes(counts[~gone], cfg)
    stopped = changes[changes["change"] == "stopped source"]
    assert stopped[["stratum", "period"]].values.tolist()[0] == ["acute_fft / River / Wards", date(2025, 11, 1)]


def test_month_under_test_is_never_in_its_own_baseline():
    cfg = _cfg("emerging", segments=["site"])
    tests = emerging.emerging_tests(_planted_counts(), cfg)
    row = tests[
        (tests["theme_id"] == "parking") & (tests["segment_value"] == "North") & (tests["period"] == date(2025, 10, 1))
    ].iloc[0]
    # baseline = the 6 months Apr..Sep: 5 months at 2 plus September's 15; October is not in it.
    assert row["baseline_count"] == 5 * 2 + 15 and row["baseline_total"] == 600
    assert row["baseline_from"] == date(2025, 4, 1) and row["baseline_to"] == date(2025, 9, 1)


def test_minimum_counts_are_respected():
    totals = {s: [100] * 12 for s in SITES}
    totals["Hill"] = [25] * 12  # too small a segment to test at all
    cells = {("pain", s): [1] * 12 for s in SITES}
    cells[("pain", "North")] = [0] * 11 + [6]  # significant on its own, but 6 < min_theme_comments 8
    cells[("pain", "Hill")] = [0] * 11 + [12]
    cfg = _cfg("emerging", segments=["site"])
    tests = emerging.emerging_tests(_counts(cells, totals), cfg)
    assert "Hill" not in set(tests["segment_value"])
    north = tests[(tests["segment_value"] == "North") & (tests["period"] == date(2025, 12, 1))].iloc[0]
    assert north["p_value"] < 1e-3
    assert emerging.select_alerts(tests, cfg).empty
    assert not emerging.select_alerts(tests, {**cfg, "min_theme_comments": 6}).empty
    # The baseline needs min_baseline_months months with comments.
    early = tests[tests["period"] < date(2025, 4, 1)]
    assert early.empty


def test_fdr_keeps_null_series_quiet_but_finds_the_real_rise():
    rng = np.random.default_rng(7)
    totals = {f"S{i}": [200] * 12 for i in range(20)}
    cells = {(f"T{j}", s): list(rng.binomial(200, 0.05, size=12)) for j in range(15) for s in totals}
    cells[("T_real", "S3")] = [10] * 11 + [40]
    counts = _counts(cells, totals)
    cfg = _cfg("emerging", segments=["site"])
    tests = emerging.emerging_tests(counts, cfg)
    assert len(tests) > 2000
    # Uncorrected, a few hundred null comparisons fall below 5% ...
    assert (tests["p_value"] < 0.05).sum() > 50
    alerts = emerging.select_alerts(tests, cfg)
    # ... corrected, only the planted rise remains.
    assert list(zip(alerts["theme_id"], alerts["segment_value"], strict=True)) == [("T_real", "S3")]


def test_period_family_corrects_each_month_separately():
    cfg = _cfg("emerging", segments=["site"], fdr_family="period")
    tests = emerging.emerging_tests(_planted_counts(), cfg)
    alerts = emerging.select_alerts(tests, cfg)
    assert not alerts.empty
    per_period = tests.groupby("period").size()
    assert (alerts["family_size"].to_numpy() == per_period[alerts["period"]].to_numpy()).all()
    assert (alerts["family_size"] < len(tests)).all()


def test_overdispersed_baseline_does_not_alert():
    totals = {"North": [400] * 12, "River": [400] * 12}
    # Month-to-month swings far beyond binomial noise; the last month is high but not unusual.
    swings = [8, 40, 6, 44, 10, 38, 7, 42, 9, 41, 8, 46]
    cells = {("wards", "North"): swings, ("wards", "River"): [20] * 12}
    cfg = _cfg("emerging", segments=["site"])
    tests = emerging.emerging_tests(_counts(cells, totals), cfg)
    last = tests[(tests["segment_value"] == "North") & (tests["period"] == date(2025, 12, 1))].iloc[0]
    assert last["dispersion"] > 5
    assert last["p_exact"] < 1e-3  # the binomial test alone would raise an alert
    assert last["p_value"] > 0.05
    assert emerging.select_alerts(tests, cfg).empty
    plain = emerging.emerging_tests(_counts(cells, totals), {**cfg, "overdispersion": False})
    assert not emerging.select_alerts(plain, cfg).empty


def test_new_theme_without_baseline_share_alerts_with_null_lift():
    totals = {"North": [100] * 12}
    cells = {("new_clinic", "North"): [0] * 11 + [12], ("other", "North"): [5] * 12}
    cfg = _cfg("emerging", segments=["site"])
    alerts = emerging.select_alerts(emerging.emerging_tests(_counts(cells, totals), cfg), cfg)
    assert list(alerts["theme_id"]) == ["new_clinic"]
    assert np.isnan(alerts["lift"].iloc[0]) and alerts["baseline_share"].iloc[0] == 0


def test_unknown_config_values_are_rejected():
    with pytest.raises(config.InsightsError, match="outcome"):
        config.load_config(None, {"drivers": {"outcomes": ["happiness"]}})
    with pytest.raises(config.InsightsError, match="fdr_family"):
        config.load_config(None, {"emerging": {"fdr_family": "month"}})


def test_shipped_config_loads(settings):
    cfg = config.load_config(config.config_path(settings))
    assert cfg["emerging"]["alpha"] == 0.05 and cfg["drivers"]["outcomes"] == ["fft_poor", "nps_detractor"]
    assert config.params_hash(cfg) == config.params_hash(json.loads(json.dumps(cfg)))


# --------------------------------------------------------------------------------------
# Key drivers
# --------------------------------------------------------------------------------------
def _driver_data(seed: int = 3, n: int = 1500):
    rng = np.random.default_rng(seed)
    service = rng.choice(["ED", "Outpatients"], size=n, p=[0.5, 0.5])
    site = rng.choice(list(SITES), size=n)
    wait = (service == "ED") & (rng.random(n) < 0.3)
    noise = {f"N{k}": rng.random(n) < 0.08 for k in range(4)}
    staff = rng.random(n) < 0.1
    logit = -2.2 + 3.0 * wait + 1.0 * staff
    poor = rng.random(n) < 1 / (1 + np.exp(-logit))
    uid = [f"r{i}" for i in range(n)]
    responses = pd.DataFrame(
        {
            "response_uid": uid,
            "site": site,
            "service": service,
            "fft_category": np.where(poor, "negative", "positive"),
            "nps_class": None,
            "rating_value": np.where(poor, 0.25, 0.9),
        }
    )
    rows = []
    for name, mask, cat in [("WAIT", wait, "waiting"), ("STAFF", staff, "staff")] + [
        (k, v, "misc") for k, v in noise.items()
    ]:
        rows += [
            {"response_uid": uid[i], "theme_id": name, "category_id": cat, "negative": True, "positive": False}
            for i in np.flatnonzero(mask)
        ]
    return responses, pd.DataFrame(rows)


def test_drivers_recover_the_planted_driver_with_intervals():
    responses, mentions = _driver_data()
    cfg = _cfg("drivers", outcomes=["fft_poor", "nps_detractor"], bootstrap_reps=60)
    out, skipped = drivers.key_drivers(responses, mentions, cfg, seed=1)
    themes = out[out["level"] == "theme"]
    ed = themes[themes["scope"] == "ED"].set_index("theme_id")
    assert ed["rank"].idxmin() == "WAIT"
    wait = ed.loc["WAIT"]
    assert wait["ci_low"] < 3.0 < wait["ci_high"]
    assert wait["ci_low"] > 1.5
    assert wait["importance_ci_low"] > 0.1
    assert wait["performance"] < 0.6 and wait["n"] == mentions.query("theme_id == 'WAIT'").shape[0]
    overall = themes[themes["scope"] == "All"].set_index("theme_id")
    assert overall.loc["STAFF", "ci_low"] > 0  # a smaller real effect is found overall
    noise = overall.loc[[f"N{k}" for k in range(4)]]
    assert (noise["ci_low"] < 0).sum() >= 3  # and null themes mostly straddle 0
    # Outpatients has no WAIT mentions: the theme is not in that model.
    assert "WAIT" not in set(themes[themes["scope"] == "Outpatients"]["theme_id"])
    # nps has no data here: skipped scopes are reported, not silently dropped.
    assert skipped == [
        {"level": level, "outcome": "nps_detractor", "scope": "All", "reason": "0 responses < min_scope_responses 100"}
        for level in ("theme", "category")
    ]
    assert set(out["outcome"]) == {"fft_poor"}


def test_drivers_are_the_same_whatever_the_number_of_threads():
    """Scopes are fitted side by side, each with its own seeded bootstrap: the rows never depend on the threads."""
    responses, mentions = _driver_data()
    cfg = _cfg("drivers", outcomes=["fft_poor"], bootstrap_reps=30)
    one, skipped_one = drivers.key_drivers(responses, mentions, cfg, seed=1, threads=1)
    three, skipped_three = drivers.key_drivers(responses, mentions, cfg, seed=1, threads=3)
    assert len(one) > 10 and set(one["scope"]) == {"All", "ED", "Outpatients"}
    pd.testing.assert_frame_equal(one, three)
    assert skipped_one == skipped_three


def test_overall_verdict_themes_are_not_candidate_drivers():
    """'Absolutely shocking' goes with a poor rating by definition: it restates it, it does not explain it."""
    responses, mentions = _driver_data()
    poor = responses.loc[responses["fft_category"] == "negative", "response_uid"]  # nearly every poor one
    verdict = pd.DataFrame(
        {"response_uid": poor.iloc[:-5], "theme_id": "SHOCKING", "category_id": "general_criticism", "negative": True}
    ).assign(positive=False)
    both = pd.concat([mentions, verdict], ignore_index=True)
    cfg = _cfg("drivers", outcomes=["fft_poor"], bootstrap_reps=20, scopes=["service"], exclude_categories=[])
    kept, _ = drivers.key_drivers(responses, both, cfg, seed=1)
    ed = kept[(kept["level"] == "theme") & (kept["scope"] == "ED")].set_index("theme_id")
    assert ed["rank"].idxmin() == "SHOCKING"  # without the rule the verdict tops the drivers
    cfg = _cfg("drivers", outcomes=["fft_poor"], bootstrap_reps=20, scopes=["service"])
    cfg["exclude_categories"] = ["general_criticism"]
    out, _ = drivers.key_drivers(responses, both, cfg, seed=1)
    ed = out[(out["level"] == "theme") & (out["scope"] == "ED")].set_index("theme_id")
    assert "SHOCKING" not in ed.index and ed["rank"].idxmin() == "WAIT"
    assert "category:general_criticism" not in set(out["theme_id"])


def test_the_shipped_config_leaves_overall_verdicts_out_of_the_drivers(settings):
    cfg = config.load_config(config.config_path(settings))
    assert set(cfg["drivers"]["exclude_categories"]) == {"general_praise", "general_criticism"}


def test_categories_with_a_single_theme_are_not_modelled_twice():
    responses, mentions = _driver_data()
    cfg = _cfg("drivers", outcomes=["fft_poor"], bootstrap_reps=20, scopes=["all"])
    out, _ = drivers.key_drivers(responses, mentions, cfg, seed=1)
    cats = set(out.loc[out["level"] == "category", "theme_id"])
    assert cats == {"category:misc"}  # waiting and staff hold one theme each


def test_small_scopes_are_skipped_with_a_reason():
    responses, mentions = _driver_data(n=150)
    cfg = _cfg("drivers", outcomes=["fft_poor"], bootstrap_reps=10, min_scope_responses=100)
    _, skipped = drivers.key_drivers(responses, mentions, cfg, seed=1)
    assert any("min_scope_responses" in s["reason"] or "min_events" in s["reason"] for s in skipped)


def test_fit_logit_matches_maximum_likelihood_with_a_flat_prior():
    import statsmodels.api as sm

    rng = np.random.default_rng(5)
    x = np.column_stack([np.ones(3000), rng.random(3000) < 0.3, rng.normal(size=3000)])
    y = (rng.random(3000) < 1 / (1 + np.exp(-(x @ np.array([-1.0, 1.5, 0.5]))))).astype(float)
    ours = logit.fit_logit(x, y, np.ones(3000), np.zeros(3))
    ref = sm.Logit(y, x.astype(float)).fit(disp=0).params
    np.testing.assert_allclose(ours, ref, atol=1e-6)


def test_sparse_design_gives_the_same_fit_as_dense():
    from scipy import sparse

    rng = np.random.default_rng(9)
    x = np.column_stack([np.ones(800), rng.random((800, 12)) < 0.1]).astype(float)
    y = (rng.random(800) < 0.3).astype(float)
    w = rng.integers(1, 4, size=800).astype(float)
    design = logit.Design(sparse.csr_matrix(x))
    np.testing.assert_allclose(design.gram(w), (x * w[:, None]).T @ x)
    lam = np.r_[0.0, np.full(12, 0.16)]
    np.testing.assert_allclose(logit.fit_logit(design, y, w, lam), logit.fit_logit(x, y, w, lam), atol=1e-8)


@pytest.mark.parametrize("as_sparse", [False, True])
def test_many_fits_at_once_equal_one_fit_each(as_sparse):
    """The bootstrap fits its resamples together (fit_logit_many): each row is fit_logit's answer,
    including resamples that stop early, that need their steps halved, and that separate."""
    from scipy import sparse

    rng = np.random.default_rng(11)
    x = np.column_stack([np.ones(600), rng.random((600, 8)) < 0.15, rng.random((600, 3)) < 0.5]).astype(float)
    y = (rng.random(600) < 1 / (1 + np.exp(-(x @ rng.normal(0, 1.5, 12) - 1)))).astype(float)
    lam = np.r_[0.0, np.full(11, 0.1)]
    design = logit.Design(sparse.csr_matrix(x) if as_sparse else x)
    start = logit.fit_logit(design, y, np.ones(600), lam)
    weights = rng.multinomial(600, np.full(600, 1 / 600), size=40).astype(float)
    weights[0] = np.where(x[:, 1] == 1, 0.0, weights[0]) * (y + 0.0)  # a resample with one outcome only
    weights[1] = np.where(y == 1, 40.0, 0.1)  # far from start: step halving
    many = logit.fit_logit_many(design, y, weights, lam, start=start, max_iter=25, tol=1e-6)
    one = np.stack([logit.fit_logit(design, y, w, lam, start=start, max_iter=25, tol=1e-6) for w in weights])
    assert many.shape == (40, 12)
    np.testing.assert_allclose(many, one, atol=1e-9)
    assert np.isfinite(many).all()


def test_fit_logit_stays_finite_under_separation():
    x = np.column_stack([np.ones(40), np.r_[np.ones(10), np.zeros(30)]])
    y = np.r_[np.ones(10), np.zeros(25), np.ones(5)]
    beta = logit.fit_logit(x, y, np.ones(40), np.array([0.0, 1 / 2.5**2]))
    assert np.isfinite(beta).all() and 1 < beta[1] < 10


# --------------------------------------------------------------------------------------
# Segment lift
# --------------------------------------------------------------------------------------
def _lift_counts():
    rows = []
    for site, total, billing, food in (("North", 400, 40, 12), ("River", 400, 8, 12), ("Hill", 400, 8, 12)):
        rows.append(
            {
                "segment_type": "site",
                "segment_value": site,
                "theme_id": None,
                "comments_any": total,
                "comments_negative": total,
            }
        )
        rows.append(
            {
                "segment_type": "site",
                "segment_value": site,
                "theme_id": "billing",
                "comments_any": billing + 5,
                "comments_negative": billing,
            }
        )
        rows.append(
            {
                "segment_type": "site",
                "segment_value": site,
                "theme_id": "food",
                "comments_any": food,
                "comments_negative": food,
            }
        )
    rows.append(
        {"segment_type": "site", "segment_value": "Tiny", "theme_id": None, "comments_any": 12, "comments_negative": 12}
    )
    rows.append(
        {"segment_type": "site", "segment_value": "Tiny", "theme_id": "food", "comments_any": 6, "comments_negative": 6}
    )
    return pd.DataFrame(rows)


def test_lift_flags_the_planted_concentration_only():
    cfg = _cfg("lift")
    out = lift.segment_lift(_lift_counts(), cfg)
    sig = out[out["is_significant"]]
    assert list(zip(sig["theme_id"], sig["segment_value"], strict=True)) == [("billing", "North")]
    north = sig.iloc[0]
    assert north["n"] == 40 and north["total"] == 400
    assert north["share_elsewhere"] == pytest.approx(16 / 812)
    assert north["lift"] == pytest.approx((40 / 400) / (16 / 812))
    # The 12-comment segment is below min_segment_comments: never tested (it is in "elsewhere").
    assert "Tiny" not in set(out["segment_value"])
    assert (out["q_value"] >= out["p_value"]).all()


def test_lift_can_count_any_mention():
    out = lift.segment_lift(_lift_counts(), _cfg("lift", mention="any"))
    north = out[(out["theme_id"] == "billing") & (out["segment_value"] == "North")].iloc[0]
    assert north["n"] == 45 and north["mention"] == "any"


# --------------------------------------------------------------------------------------
# End to end on a small DuckDB warehouse (SQL inputs, writes, marts)
# --------------------------------------------------------------------------------------
def _warehouse_rows(seed: int = 11):
    rng = np.random.default_rng(seed)
    now = datetime(2026, 1, 1, tzinfo=UTC)
    feedback, redactions, sentiment, aspects, assignments = [], [], [], [], []
    i = 0
    for m, month in enumerate(MONTHS):
        for site in SITES:
            for k in range(60):
                i += 1
                fid = f"F{i:05d}"
                surge = site == "North" and m >= 8
                topic = "parking" if rng.random() < (0.2 if surge else 0.02) else rng.choice(["food", "staff", "wait"])
                poor = rng.random() < (0.7 if topic == "wait" else 0.1)
                feedback.append(
                    {
                        "feedback_id": fid,
                        "channel": "survey",
                        "source": "fft",
                        "source_record_id": fid,
                        "response_id": f"R{i:05d}",
                        "received_at": datetime(month.year, month.month, 1 + k % 27, 10 + k % 9, tzinfo=UTC),
                        "source_timezone": "Europe/London",
                        "site": site,
                        "service": "ED" if k % 2 else "Outpatients",
                        "question_key": "what_could_improve",
                        "text": "raw",
                        "rating_scale": "fft5",
                        "rating_raw": "Poor" if poor else "Very good",
                        "rating_value": 0.25 if poor else 1.0,
                        "record_hash": "h",
                        "batch_id": "b",
                        "ingested_at": now,
                    }
                )
                text = f"about {topic} number {i}"
                redactions.append(
                    {
                        "feedback_id": fid,
                        "record_hash": "h",
                        "text_redacted": text,
                        "entity_counts": "{}",
                        "redactor_version": "t",
                        "redacted_at": now,
                    }
                )
                sentiment.append(
                    {
                        "feedback_id": fid,
                        "record_hash": "h",
                        "is_informative": True,
                        "label5": "negative",
                        "label3": "negative",
                        "score": -0.5,
                        "confidence": 0.9,
                        "is_mixed": False,
                        "model_version": "t",
                        "scored_at": now,
                    }
                )
                aspects.append(
                    {
                        "feedback_id": fid,
                        "clause_idx": 0,
                        "clause_text": text,
                        "label3": "negative",
                        "score": -0.5,
                        "model_version": "t",
                    }
                )
                theme = {"parking": "T1", "food": "T2", "staff": "T3", "wait": "T4"}[topic]
                if topic == "parking" and i % 2:
                    theme = "T5"  # the model split parking into two themes
                assignments.append(
                    {
                        "feedback_id": fid,
                        "clause_idx": 0,
                        "theme_id": theme,
                        "probability": 0.9,
                        "method": "bertopic",
                        "theme_run_id": "r",
                    }
                )
    themes_ = pd.DataFrame(
        {
            "theme_id": ["T1", "T2", "T3", "T4", "T5"],
            "label": ["Parking fines", "Food", "Staff", "Waits", "Car park spaces"],
            "category_id": ["parking", "food_drink", "staff_attitude", "waiting_times", "parking"],
            "category_name": ["Car parking", "Food and drink", "Staff attitude", "Waiting", "Car parking"],
            "status": "active",
        }
    )
    categories = pd.DataFrame(
        {
            "category_id": ["parking", "food_drink"],
            "name": ["Car parking", "Food and drink"],
            "taxonomy_hash": "x",
        }
    )
    frames = {
        "raw.feedback": pd.DataFrame(feedback),
        "enrich.redactions": pd.DataFrame(redactions),
        "enrich.sentiment": pd.DataFrame(sentiment),
        "enrich.aspects": pd.DataFrame(aspects),
        "enrich.theme_assignments": pd.DataFrame(assignments),
        "enrich.themes": themes_,
        "enrich.theme_categories": categories,
    }
    return frames


@pytest.fixture
def small_warehouse(settings):
    with warehouse.connect(settings) as con:
        warehouse.apply_schema(con, settings)
        for table, frame in _warehouse_rows().items():
            with warehouse.registered(con, incoming=frame):
                con.execute(f"insert into {table} by name select * from incoming")
        warehouse.build_models(con, settings)
        yield settings, con


def test_run_insights_end_to_end_on_duckdb(small_warehouse):
    settings, con = small_warehouse
    overrides = {"drivers": {"bootstrap_reps": 20}}
    summary = insights.run_insights(settings, con, "run-1", config=overrides)
    assert summary["emerging_tests"] > 0 and summary["alerts"] >= 1 and summary["drivers"] > 0
    warehouse.build_models(con, settings)
    alerts = con.execute("select * from marts.fct_theme_alerts").df()
    parking = alerts[alerts["category_id"] == "parking"]
    assert {"category:parking"} <= set(parking["theme_id"])
    site_alerts = alerts[alerts["segment_type"] == "site"]
    assert set(site_alerts["segment_value"]) == {"North"}
    assert site_alerts["period"].min() == pd.Timestamp("2025-09-01")
    assert set(alerts["category_id"]) == {"parking"}
    cat = parking[parking["theme_id"] == "category:parking"].iloc[0]
    assert cat["label"] == "Car parking" and cat["level"] == "category"
    quotes = json.loads(cat["quotes"])
    assert 1 <= len(quotes) <= 3 and all("parking" in q for q in quotes)
    driver_rows = con.execute("select * from marts.fct_key_drivers where level = 'theme' and scope = 'All'").df()
    assert driver_rows.sort_values("rank").iloc[0]["theme_id"] == "T4"
    assert driver_rows["ci_low"].notna().all() and (driver_rows["ci_low"] <= driver_rows["ci_high"]).all()
    lift_rows = con.execute("select * from marts.fct_segment_lift").df()
    assert set(lift_rows["segment_type"]) <= {"site", "service", "channel", "weekday", "hour_band", "month"}
    assert "hour_band" in set(lift_rows["segment_type"])
    trends = con.execute(
        "select * from marts.fct_theme_trends "
        "where theme_id = 'T2' and segment_type = 'all' and period_grain = 'month' order by period"
    ).df()
    assert len(trends) == 12 and (trends["total_comments"] == 180).all()
    assert trends["share"].between(0, 1).all()
    # Data end on 27 December: December is a partial month.
    assert trends["is_complete"].tolist() == [True] * 11 + [False]
    # Re-running the same run id replaces its rows; marts show the latest run only.
    insights.run_insights(settings, con, "run-1", config=overrides)
    assert con.execute("select count(*) from enrich.theme_alerts").fetchone()[0] == len(alerts)
    sizes = {
        table: con.execute(f"select count(*) from enrich.{table}").fetchone()[0]
        for table in ("theme_alerts", "key_drivers", "segment_lift")
    }
    assert all(sizes.values()), sizes
    insights.run_insights(settings, con, "run-2", config=overrides)
    warehouse.build_models(con, settings)
    assert set(con.execute("select distinct run_id from marts.fct_theme_alerts").fetchall()) == {("run-2",)}
    # A new run on unchanged data replaces the rows: no insights table grows run after run.
    for table, size in sizes.items():
        assert con.execute(f"select count(*) from enrich.{table}").fetchone()[0] == size, table
        assert con.execute(f"select distinct run_id from enrich.{table}").fetchall() == [("run-2",)], table


def test_theme_trends_count_and_average_each_cells_clauses(small_warehouse):
    """fct_theme_trends against its definition, recomputed in pandas from the two marts it reads."""
    settings, con = small_warehouse
    # Every clause of the fixture is negative: make a third positive, so negative counts differ from totals.
    con.execute(
        "update enrich.aspects set label3 = 'positive', score = 0.8 where hash(feedback_id, clause_idx) % 3 = 0"
    )
    # A clause without a score counts as a clause and stays out of the mean.
    con.execute(
        "update enrich.aspects set score = null "
        "where (feedback_id, clause_idx) = (select (feedback_id, clause_idx) from enrich.aspects order by all limit 1)"
    )
    warehouse.refresh_models(con, settings)
    comments = con.execute(
        "select feedback_id, channel, site, cast(month as date) as period from marts.fct_feedback "
        "where is_informative and month is not null"
    ).df()
    clauses = con.execute(
        "select feedback_id, theme_id, aspect_sentiment3, aspect_score from marts.fct_feedback_theme "
        "where theme_id is not null"
    ).df()
    assert clauses["aspect_score"].isna().any()
    assert set(clauses["aspect_sentiment3"]) == {"negative", "positive"}
    joined = comments.merge(clauses, on="feedback_id")
    joined["finite"] = joined["aspect_score"].where(np.isfinite(joined["aspect_score"]))
    for segment, column in (("all", None), ("site", "site")):
        keys = ["theme_id", "period"] + ([column] if column else [])
        expected = joined.groupby(keys).agg(
            comments=("feedback_id", "nunique"),
            clauses=("feedback_id", "size"),
            negative_clauses=("aspect_sentiment3", lambda v: int((v == "negative").sum())),
            mean_sentiment=("finite", "mean"),
        )
        negative = joined[joined["aspect_sentiment3"] == "negative"].groupby(keys)["feedback_id"].nunique()
        expected["negative_comments"] = negative.reindex(expected.index).fillna(0).astype(int)
        mart = con.execute(
            "select theme_id, cast(period as date) as period, segment_value, comments, clauses, negative_clauses, "
            "negative_comments, mean_sentiment from marts.fct_theme_trends "
            "where period_grain = 'month' and segment_type = $segment and comments > 0",
            {"segment": segment},
        ).df()
        mart = mart.drop(columns="segment_value") if column is None else mart.rename(columns={"segment_value": column})
        mart = mart.set_index(keys).sort_index()
        expected = expected.sort_index()
        assert list(mart.index) == list(expected.index), segment
        for name in ("comments", "clauses", "negative_clauses", "negative_comments"):
            assert mart[name].astype(int).tolist() == expected[name].astype(int).tolist(), (segment, name)
        assert np.allclose(mart["mean_sentiment"], expected["mean_sentiment"], rtol=0, atol=1e-12, equal_nan=True)


def test_run_insights_on_an_empty_warehouse(settings):
    with warehouse.connect(settings) as con:
        warehouse.build_models(con, settings)
        summary = insights.run_insights(settings, con, "empty")
        warehouse.build_models(con, settings)
        assert summary["alerts"] == 0 and summary["drivers"] == 0 and summary["lift_tests"] == 0
        assert con.execute("select count(*) from marts.fct_theme_trends").fetchone()[0] == 0
