"""staging.stg_raw__feedback.received_local: the wall-clock time where the feedback was given."""

from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from pipelines import schema, warehouse
from pipelines.config import Settings

ROOT = Path(__file__).resolve().parents[2]


def test_received_local_follows_each_sources_zone_and_daylight_saving(tmp_path):
    cases = [  # (source zone, received at UTC, expected local wall-clock time)
        ("Europe/London", datetime(2026, 1, 15, 12, 30, tzinfo=UTC), datetime(2026, 1, 15, 12, 30)),  # GMT
        ("Europe/London", datetime(2026, 7, 15, 23, 30, tzinfo=UTC), datetime(2026, 7, 16, 0, 30)),  # BST
        (None, datetime(2026, 7, 15, 23, 30, tzinfo=UTC), datetime(2026, 7, 16, 0, 30)),  # default: London
        ("America/Chicago", datetime(2026, 7, 15, 3, 0, tzinfo=UTC), datetime(2026, 7, 14, 22, 0)),  # CDT
        ("America/Chicago", datetime(2026, 1, 15, 3, 0, tzinfo=UTC), datetime(2026, 1, 14, 21, 0)),  # CST
        ("UTC", datetime(2026, 7, 15, 23, 30, tzinfo=UTC), datetime(2026, 7, 15, 23, 30)),
        ("Australia/Sydney", datetime(2026, 1, 15, 12, 0, tzinfo=UTC), datetime(2026, 1, 15, 23, 0)),  # AEDT
    ]
    rows = []
    for i, (zone, received, _) in enumerate(cases):
        record = dict.fromkeys(schema.COLUMNS)
        record.update(channel="survey", source="s", source_record_id=f"R{i}", received_at=received, text="t")
        record.update(source_timezone=zone, batch_id="b1", ingested_at=datetime(2026, 8, 1, tzinfo=UTC))
        record["feedback_id"] = record["record_hash"] = schema.feedback_id("s", f"R{i}")
        rows.append(record)
    settings = Settings.from_env({"FEEDBACK_HOME": str(ROOT), "FEEDBACK_WAREHOUSE": str(tmp_path / "wh.duckdb")})
    with warehouse.connect(settings) as con:
        warehouse.apply_schema(con, settings)
        with warehouse.registered(con, incoming=pd.DataFrame(rows)):
            con.execute("insert into raw.feedback by name select * from incoming")
        warehouse.build_models(con, settings, publish_marts=False)
        got = dict(con.execute("select source_record_id, received_local from staging.stg_raw__feedback").fetchall())
    assert [got[f"R{i}"] for i in range(len(cases))] == [expected for _, _, expected in cases]
