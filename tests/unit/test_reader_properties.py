"""Property-based tests (hypothesis) for the source readers and normalisers.

- The CSV reader gives back every cell Python's csv module wrote, whatever the text (quotes,
  delimiters, CR, LF, CRLF, NUL, any Unicode), with line breaks as line breaks and no control
  characters.
- A rating scale never turns a number that is not a whole number into an answer on the scale.
- Date parsing never returns a date for a date or time that does not exist.
- The JSON Lines reader never raises on arbitrary bytes: each line loads or is rejected with a
  reason, and every value it loads can be stored (valid UTF-8).

The number of examples follows ``FEEDBACK_HYPOTHESIS_PROFILE``: ``ci`` (default, derandomised,
so CI is reproducible), ``reliability-short`` and ``reliability`` (random, more examples; what
``make reliability`` runs).
"""

from __future__ import annotations

import atexit
import calendar
import csv
import io
import json
import math
import os
import re
import shutil
import tempfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, Phase, assume, example, given, settings
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir

from pipelines.sources.files import decode_bytes, read_delimited, read_jsonl
from pipelines.sources.mapping import local_to_utc
from pipelines.sources.scales import SCALES

_COMMON = {"deadline": None, "database": None, "suppress_health_check": [HealthCheck.too_slow]}
settings.register_profile("ci", max_examples=60, derandomize=True, **_COMMON)
# make reliability counts failures; it does not need them shrunk to the smallest example.
_NO_SHRINK = (Phase.explicit, Phase.reuse, Phase.generate)
settings.register_profile("reliability-short", max_examples=25, phases=_NO_SHRINK, **_COMMON)
settings.register_profile("reliability", max_examples=1500, phases=_NO_SHRINK, **_COMMON)
settings.load_profile(os.environ.get("FEEDBACK_HYPOTHESIS_PROFILE", "ci"))

CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
WORK = Path(tempfile.mkdtemp(prefix="reader-properties-"))  # hypothesis reruns a test body: no tmp_path
atexit.register(shutil.rmtree, WORK, ignore_errors=True)
set_hypothesis_home_dir(WORK / ".hypothesis")  # its patch files go here, not into the checkout

# Text a cell may hold: anything encodable as UTF-8 (no lone surrogates), weighted towards the
# characters that break CSV readers.
TRICKY = st.sampled_from(['"', ",", ";", "\t", "|", "\r", "\n", "\r\n", "\x00", "\ufeff", "\u2028", " ", "é", "😀"])
CELL = st.lists(st.one_of(TRICKY, st.text(st.characters(blacklist_categories=("Cs",)), max_size=8)), max_size=6).map(
    "".join
)


def _line_breaks(text: str) -> str:
    """CR, LF and CRLF as one line break: a comment keeps its breaks whichever way it wrote them."""
    return re.sub(r"\r\n?", "\n", text)


def _stored(text: str) -> str:
    """What a reader may store for ``text``, up to line-break style: control characters gone.

    Controls go first, so "\r\x06\n" is one CRLF line break, not two breaks.
    """
    return _line_breaks(CONTROL.sub("", text))


@given(
    rows=st.lists(st.lists(CELL, min_size=3, max_size=3), max_size=6),
    terminator=st.sampled_from(["\r\n", "\n"]),
    quoting=st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL]),
)
@example(rows=[["first part\rsecond part", "x", "y"]], terminator="\r\n", quoting=csv.QUOTE_MINIMAL)
@example(rows=[["a\x00b", "\r", '"quoted"']], terminator="\n", quoting=csv.QUOTE_ALL)
def test_csv_reader_round_trips_every_cell(rows: list[list[str]], terminator: str, quoting: int):
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator=terminator, quoting=quoting)
    writer.writerow(["alpha", "beta", "gamma"])
    writer.writerows(rows)
    written = buffer.getvalue()
    # With a "\n" terminator the csv module leaves a lone "\r" unquoted: a file no reader can
    # read back (Python's own neither). Only files the csv module itself reads back count.
    assume(list(csv.reader(io.StringIO(written, newline=""))) == [["alpha", "beta", "gamma"], *rows])
    path = WORK / "round_trip.csv"
    path.write_bytes(written.encode("utf-8"))

    read = read_delimited(path)

    expected = [[_stored(c) for c in row] for row in rows]
    expected = [row for row in expected if any(c.strip() for c in row)]  # blank rows are not rows
    assert read.rejects == []
    got = read.frame[["alpha", "beta", "gamma"]].fillna("").to_numpy().tolist()
    assert [[_line_breaks(c) for c in row] for row in got] == expected
    assert not any(CONTROL.search(c) for row in got for c in row)
    assert read.frame["_row_number"].is_monotonic_increasing


NON_INTEGER = st.floats(allow_nan=True, allow_infinity=True).filter(
    lambda x: not x.is_integer() if math.isfinite(x) else True
)


def _spellings(x: float) -> list[str]:
    """How a non-whole number may appear in an export: repr, one decimal, a decimal comma, padded."""
    text = [repr(x), str(x), f" {x} "]
    if math.isfinite(x):
        text += [f"{x:.1f}", f"{x:.2f}".replace(".", ","), f"{x:e}"]
    return [t for t in text if not re.fullmatch(r"\s*-?\d+(\.0+)?\s*", t)]  # rounding to a whole number is fine


@pytest.mark.parametrize("scale", sorted(SCALES))
@given(x=NON_INTEGER)
@example(x=3.5)
@example(x=2.1)
@example(x=10.5)
def test_a_non_whole_number_is_never_an_answer(scale: str, x: float):
    raw = pd.Series(_spellings(x), dtype="string")
    key, value = SCALES[scale].parse(raw)
    on_scale = key.isin(SCALES[scale].keys) & key.notna()
    assert not on_scale.any(), dict(zip(raw[on_scale], key[on_scale], strict=True))
    assert value.isna().all()


@pytest.mark.parametrize("scale", sorted(SCALES))
@given(text=st.text(max_size=20))
@example(text="1e1")
@example(text="0x0A")
def test_a_scale_value_is_in_range_and_only_for_answers_on_the_scale(scale: str, text: str):
    key, value = SCALES[scale].parse(pd.Series([text], dtype="string"))
    if pd.notna(value.iat[0]):
        assert 0.0 <= value.iat[0] <= 1.0
        assert key.iat[0] in SCALES[scale].keys
    if SCALES[scale].numeric and pd.notna(value.iat[0]):
        assert re.fullmatch(r"\s*\+?\d+(\.0*)?\s*", text), f"{text!r} read as the score {key.iat[0]}"


def _impossible(year: int, month: int, day: int) -> bool:
    return not (1 <= month <= 12 and 1 <= day <= (calendar.monthrange(year, month)[1] if 1 <= month <= 12 else 0))


DATE_LAYOUTS = [
    "{d:02d}/{m:02d}/{y}",
    "{y}-{m:02d}-{d:02d}",
    "{d:02d}-{m:02d}-{y}",
    "{d:02d}.{m:02d}.{y}",
    "{y}/{m:02d}/{d:02d}",
]


@given(
    year=st.integers(2000, 2030),
    month=st.integers(0, 19),
    day=st.integers(0, 39),
    layout=st.sampled_from(DATE_LAYOUTS),
    time=st.sampled_from(["", " 10:30", " 23:59:59"]),
)
@example(year=2026, month=2, day=31, layout=DATE_LAYOUTS[0], time="")
@example(year=2026, month=13, day=1, layout=DATE_LAYOUTS[1], time="")  # 2026-13-01: ISO order is never swapped
@example(year=2026, month=2, day=29, layout=DATE_LAYOUTS[1], time="")
def test_an_impossible_date_is_never_read_as_a_date(year: int, month: int, day: int, layout: str, time: str):
    assume(_impossible(year, month, day))
    if not layout.startswith("{y}"):
        # A day/month date valid only month-first ("11/13/2026") is unambiguous and read month-first
        # (see test_an_unambiguous_us_date_in_a_day_first_export_is_read_month_first).
        assume(_impossible(year, day, month))
    text = layout.format(d=day, m=month, y=year) + time
    parsed = local_to_utc(pd.Series([text], dtype="string"), "Europe/London", dayfirst=True)
    assert parsed.isna().all(), f"{text!r} read as {parsed.iat[0]}"


def test_an_unambiguous_us_date_in_a_day_first_export_is_read_month_first():
    texts = pd.Series(["11/13/2026", "02/16/2025 14:00", "03/11/2026", "2026-13-01"], dtype="string")
    parsed = local_to_utc(texts, "Europe/London", dayfirst=True)
    assert parsed.iat[0] == pd.Timestamp("2026-11-13", tz="UTC")
    assert parsed.iat[1] == pd.Timestamp("2025-02-16 14:00", tz="UTC")
    assert parsed.iat[2] == pd.Timestamp("2026-11-03", tz="UTC")  # ambiguous: the source's order wins
    assert pd.isna(parsed.iat[3])


@given(
    date=st.dates(min_value=pd.Timestamp("2000-01-01").date(), max_value=pd.Timestamp("2030-12-31").date()),
    hour=st.integers(0, 99),
    minute=st.integers(0, 99),
    layout=st.sampled_from(DATE_LAYOUTS),
)
@example(date=pd.Timestamp("2026-11-02").date(), hour=24, minute=30, layout=DATE_LAYOUTS[0])
def test_an_impossible_time_is_never_read_and_a_real_one_is_kept(date, hour: int, minute: int, layout: str):
    text = layout.format(d=date.day, m=date.month, y=date.year) + f" {hour:02d}:{minute:02d}"
    parsed = local_to_utc(pd.Series([text], dtype="string"), "Europe/London", dayfirst=True).iat[0]
    if hour > 23 or minute > 59:
        assert pd.isna(parsed), f"{text!r} read as {parsed}"
    else:
        local = parsed.tz_convert("Europe/London")
        assert (local.date(), local.hour, local.minute) == (date, hour, minute) or local.hour == hour + 1  # DST gap


JSON_LINE = st.one_of(
    st.binary(max_size=40),
    st.text(max_size=40),
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
        max_leaves=8,
    ).map(lambda v: json.dumps(v)),
    st.builds(lambda n, c: c * n, st.integers(900, 5000), st.sampled_from(["[", '{"a":'])),
    st.sampled_from(['{"entry_id": "x", "text": "half \\ud83d"}', '{"a": NaN}', "{'a': 1}", '{"a": 1},']),
)


@given(lines=st.lists(JSON_LINE, max_size=8), eol=st.sampled_from([b"\n", b"\r\n"]), raw=st.binary(max_size=200))
def test_json_lines_reader_never_raises_and_counts_every_line(lines: list, eol: bytes, raw: bytes):
    body = eol.join(line if isinstance(line, bytes) else line.encode("utf-8", "surrogatepass") for line in lines)
    for data in (body, raw):
        text = _stored(decode_bytes(data)[0])  # control characters go before lines are split
        assume(not text.lstrip().startswith("["))  # a whole-file JSON array is the other layout
        path = WORK / "lines.jsonl"
        path.write_bytes(data)

        read = read_jsonl(path)

        non_blank = [line for line in text.split("\n") if line.strip()]
        assert read.rows_read == len(non_blank)
        assert all(r.reason and r.failed_check for r in read.rejects)
        for column in read.frame.columns:
            for value in read.frame[column]:
                if isinstance(value, str):
                    value.encode("utf-8")  # storable: no lone surrogate reaches the warehouse
