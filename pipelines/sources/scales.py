"""Rating scales and complaint vocabularies: how a raw answer becomes a key on its scale and a value in 0..1.

Every scale maps the answers it accepts (after normalising case, spaces, curly quotes and a
leading code such as "1 - Very good") to a value where 1 is best; an answer off the scale keeps
its cleaned text as the key, so the Great Expectations suite quarantines it with a reason.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class Scale:
    """One rating scale: its answers (normalised text -> value in 0..1, 1 = best) or a range."""

    name: str
    description: str
    labels: dict[str, float | None] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)
    numeric: tuple[int, int] | None = None

    @property
    def keys(self) -> list[str]:
        """Every accepted answer key after normalisation (what the GX suite allows)."""
        if self.numeric:
            return [str(i) for i in range(self.numeric[0], self.numeric[1] + 1)]
        return list(self.labels)

    def parse(self, raw: pd.Series) -> tuple[pd.Series, pd.Series]:
        """Normalise raw answers.

        Returns:
            (key: the answer as one of :attr:`keys`, or the cleaned raw text when it is not on
            the scale; value: 0..1, null for unscored answers such as "Don't know")
        """
        raw = raw.astype("string")
        key = on_uniques(raw, lambda v: self._parse(v)[0])
        if self.numeric:
            lo, hi = self.numeric
            values = {str(i): (i - lo) / (hi - lo) for i in range(lo, hi + 1)}
        else:
            values = self.labels
        return key, key.map(values, na_action="ignore").astype("Float64")

    def _parse(self, raw: pd.Series) -> tuple[pd.Series, pd.Series]:
        if self.numeric:
            # Only a plain whole number is a score: not "1e1", "0x0A", "NaN" or "Infinity".
            number = pd.to_numeric(raw.where(raw.str.fullmatch(_PLAIN_NUMBER)), errors="coerce")
            lo, hi = self.numeric
            ok = number.between(lo, hi) & (number == number.round())
            key = number.where(ok).astype("Int64").astype("string").fillna(raw)
            value = (number.where(ok) - lo) / (hi - lo)
            return key, value.astype("Float64")
        text = _normalise(raw)
        lookup = {**{k: k for k in self.labels}, **self.aliases}
        key = text.map(lookup, na_action="ignore")
        key = key.fillna(self._coded_label(text, lookup)).astype("string")
        value = key.map(self.labels, na_action="ignore").astype("Float64")
        return key.fillna(text), value

    @staticmethod
    def _coded_label(text: pd.Series, lookup: dict[str, str]) -> pd.Series:
        """The label of answers like "1 - Very good" or "4: Always" (a code glued to its label).

        The code must be followed by a word: "3.5" or "2.1" is a decimal, not the code 3 or 2
        glued to the label "5" or "1", and stays off the scale. A code that names another
        answer than its label ("2 - Very good") is ambiguous and stays off the scale too.
        """
        parts = text.str.extract(_CODED, expand=True)
        label = parts["label"].map(lookup, na_action="ignore")
        coded = parts["code"].map(lookup, na_action="ignore")
        return label.where(coded.isna() | coded.eq(label))


# A whole number as people write one: "7", " 7 ", "+7", "9.0".
_PLAIN_NUMBER = r"\s*\+?\d+(?:\.0*)?\s*"
# A code, a separator and a label that starts with a letter: "1 - Very good", "4: Always", "2) Good".
_CODED = r"^(?P<code>\d+)\s*[-:.)]\s*(?P<label>[^\d\s].*)$"


def on_uniques(values: pd.Series, fn: Callable[[pd.Series], pd.Series]) -> pd.Series:
    """``fn(values)``, computed once per distinct value when there are few (sites, ratings, dates)."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    if len(uniques) * 2 > len(values):
        return fn(values)
    done = fn(pd.Series(uniques, dtype=values.dtype))
    na = fn(pd.Series([pd.NA], dtype=values.dtype))
    out = pd.concat([done, na], ignore_index=True).take(np.where(codes < 0, len(uniques), codes))
    out.index = values.index
    return out


def _normalise(raw: pd.Series) -> pd.Series:
    return (
        raw.astype("string")
        .str.lower()
        .str.replace("\u2019", "'", regex=False)
        .str.replace(r"\s+", " ", regex=True)
        .str.strip()
        .str.rstrip(".")
    )


def _codes(labels: list[str]) -> dict[str, str]:
    return {str(i): label for i, label in enumerate(labels, start=1)}


_FFT = ["very good", "good", "neither good nor poor", "poor", "very poor", "don't know"]
_HCAHPS = ["never", "sometimes", "usually", "always"]
_RECOMMEND = ["definitely no", "probably no", "probably yes", "definitely yes"]
_LIKERT = ["strongly disagree", "disagree", "neither agree nor disagree", "agree", "strongly agree"]

SCALES: dict[str, Scale] = {
    "fft5": Scale(
        "fft5",
        "NHS Friends and Family Test: Very good (1.0) .. Very poor (0.0); Don't know is not scored; codes 1-6",
        labels={
            "very good": 1.0,
            "good": 0.75,
            "neither good nor poor": 0.5,
            "poor": 0.25,
            "very poor": 0.0,
            "don't know": None,
        },
        aliases={
            **_codes(_FFT),
            "dont know": "don't know",
            "do not know": "don't know",
            "neither good or poor": "neither good nor poor",
            # The pre-2020 FFT question ("How likely are you to recommend ...?") on the same 5+1 points.
            "extremely likely": "very good",
            "likely": "good",
            "neither likely nor unlikely": "neither good nor poor",
            "unlikely": "poor",
            "extremely unlikely": "very poor",
        },
    ),
    "nps11": Scale("nps11", "likelihood to recommend 0..10 (value = score / 10)", numeric=(0, 10)),
    "rating0_10": Scale("rating0_10", "overall rating 0 (worst) .. 10 (best) (value = score / 10)", numeric=(0, 10)),
    "hcahps4": Scale(
        "hcahps4",
        "HCAHPS frequency: Never (0) / Sometimes / Usually / Always (1); codes 1-4",
        labels=dict(zip(_HCAHPS, (0.0, 1 / 3, 2 / 3, 1.0), strict=True)),
        aliases=_codes(_HCAHPS),
    ),
    "recommend4": Scale(
        "recommend4",
        "HCAHPS recommend: Definitely no (0) / Probably no / Probably yes / Definitely yes (1); codes 1-4",
        labels=dict(zip(_RECOMMEND, (0.0, 1 / 3, 2 / 3, 1.0), strict=True)),
        aliases=_codes(_RECOMMEND),
    ),
    "likert5": Scale(
        "likert5",
        "agreement: Strongly disagree (0) .. Strongly agree (1); codes 1-5",
        labels=dict(zip(_LIKERT, (0.0, 0.25, 0.5, 0.75, 1.0), strict=True)),
        aliases=_codes(_LIKERT),
    ),
}
# Kept for callers of the first version of this module.
FFT_SCALE: dict[str, float | None] = SCALES["fft5"].labels
HCAHPS_SCALE: dict[str, float | None] = SCALES["hcahps4"].labels

COMPLAINT_STATUSES = ("open", "acknowledged", "closed", "reopened")
COMPLAINT_SEVERITIES = ("low", "moderate", "high", "extreme")
STATUS_SYNONYMS = {
    "new": "open",
    "received": "open",
    "opened": "open",
    "re-opened": "reopened",
    "re opened": "reopened",
    "acknowledged": "acknowledged",
    "under investigation": "acknowledged",
    "in progress": "acknowledged",
    "resolved": "closed",
    "completed": "closed",
    "responded": "closed",
}
SEVERITY_SYNONYMS = {
    "medium": "moderate",
    "minor": "low",
    "major": "high",
    "severe": "high",
    "catastrophic": "extreme",
}
