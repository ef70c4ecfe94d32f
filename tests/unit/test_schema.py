import re

import pandas as pd
import pytest

from pipelines import schema
from tests.conftest import ROOT


def test_ddl_matches_canonical_columns():
    ddl = (ROOT / "sql/schema/010_raw.sql").read_text()
    body = ddl.split("create table if not exists raw.feedback (", 1)[1].split(");", 1)[0]
    names = [m.group(1) for m in re.finditer(r"^\s+([a-z_]+)\s+\w", body, re.M)]
    assert tuple(names) == schema.COLUMNS


def test_feedback_id_is_stable_and_source_scoped():
    assert schema.feedback_id("a", "1") == schema.feedback_id("a", "1")
    assert schema.feedback_id("a", "1") != schema.feedback_id("b", "1")
    assert len(schema.feedback_id("a", "1")) == 20


def test_conform_adds_missing_columns_and_hash():
    df = pd.DataFrame({"channel": ["survey"], "source": ["s"], "source_record_id": ["r1"], "text": ["hi"]})
    out = schema.conform(df)
    assert tuple(out.columns) == schema.COLUMNS
    assert out.loc[0, "feedback_id"] == schema.feedback_id("s", "r1")
    changed = schema.conform(df.assign(text=["hello"]))
    assert changed.loc[0, "record_hash"] != out.loc[0, "record_hash"]
    assert changed.loc[0, "feedback_id"] == out.loc[0, "feedback_id"]


def test_conform_rejects_unknown_channel_and_missing_ids():
    with pytest.raises(ValueError, match="channel"):
        schema.conform(pd.DataFrame({"channel": ["tweet"], "source": ["s"], "source_record_id": ["1"]}))
    with pytest.raises(ValueError, match="source_record_id"):
        schema.conform(pd.DataFrame({"channel": ["survey"], "source": ["s"], "source_record_id": [None]}))
